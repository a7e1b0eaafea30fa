import { describe, expect, test } from "bun:test";
import { VerifyingBlob, type ChunkSourceReader } from "./blob.ts";
import { DigestMismatchError } from "./errors.ts";
import type { Descriptor } from "./manifest.ts";
import { sha256 } from "../../../tests/lib/registry-bytes.ts";

function reader(chunks: Uint8Array[]): ChunkSourceReader & { cancelled: boolean } {
  let i = 0;
  const r = {
    cancelled: false,
    read: async (): Promise<{ done: true } | { done: false; value: Uint8Array }> => {
      const value = chunks[i++];
      return value === undefined ? { done: true } : { done: false, value };
    },
    cancel: async (): Promise<void> => {
      r.cancelled = true;
    },
  };
  return r;
}

const data = new TextEncoder().encode("hello blob world");
const good: Descriptor = { mediaType: "x", digest: sha256(data), size: data.length };
const parts = [data.subarray(0, 5), data.subarray(5)];

describe("VerifyingBlob", () => {
  test("passes matching bytes through and counts them", async () => {
    let counted = 0;
    const blob = new VerifyingBlob(good, reader(parts), (n) => (counted += n));
    const got: number[] = [];
    for await (const c of blob.chunks()) got.push(c.length);
    expect(got).toEqual([5, 11]);
    expect(counted).toBe(16);
    expect(blob.verified).toBe(true);
    expect(await blob.read()).toBeNull();
  });

  test("a changed byte fails at the end with both digests", async () => {
    const tampered = data.slice();
    tampered[3] = 0;
    const blob = new VerifyingBlob(good, reader([tampered]), undefined);
    let error: unknown;
    try {
      await blob.drain();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect((error as DigestMismatchError).expected).toBe(good.digest);
    expect((error as DigestMismatchError).actual).toBe(sha256(tampered));
    expect((error as Error).message).toContain(`expected digest "${good.digest}", got "${sha256(tampered)}"`);
    // and it stays failed
    await expect(blob.read()).rejects.toBeInstanceOf(DigestMismatchError);
  });

  test("more bytes than declared fail early and cancel the source", async () => {
    const src = reader([data, data]);
    const blob = new VerifyingBlob({ ...good, size: 10 }, src, undefined);
    await expect(blob.drain()).rejects.toThrow(/more than the 10 bytes/);
    expect(src.cancelled).toBe(true);
  });

  test("fewer bytes than declared fail with the sizes", async () => {
    const blob = new VerifyingBlob({ ...good, size: 99 }, reader(parts), undefined);
    await expect(blob.drain()).rejects.toThrow(/received 16 bytes, the manifest declares 99/);
  });
});
