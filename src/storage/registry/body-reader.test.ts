import { describe, expect, test } from "bun:test";
import type { ChunkSourceReader } from "./blob.ts";
import { IdleTimer, readCapped, readPrefix, timedReader } from "./body-reader.ts";

/** A reader over `count` chunks of `size` bytes (endless when count is Infinity); counts the chunks handed out. */
function source(size: number, count: number): ChunkSourceReader & { handed: number; cancelled: boolean } {
  const s = {
    handed: 0,
    cancelled: false,
    read: async () => {
      if (s.cancelled || s.handed >= count) return { done: true as const };
      s.handed++;
      return { done: false as const, value: new Uint8Array(size).fill(1) };
    },
    cancel: async () => {
      s.cancelled = true;
    },
  };
  return s;
}

describe("readCapped", () => {
  test("returns the whole body up to the cap", async () => {
    const bytes = await readCapped(source(1000, 4), 4000, () => new Error("too large"));
    expect(bytes.length).toBe(4000);
  });

  test("stops an endless body one chunk past the cap and cancels it", async () => {
    const endless = source(64 * 1024, Number.POSITIVE_INFINITY);
    await expect(readCapped(endless, 1024 * 1024, () => new Error("too large"))).rejects.toThrow("too large");
    expect(endless.handed).toBe(17);
    expect(endless.cancelled).toBe(true);
  });
});

describe("readPrefix", () => {
  test("reads only the first bytes of a huge body", async () => {
    const huge = source(10_000, Number.POSITIVE_INFINITY);
    const bytes = await readPrefix(huge, 25_000);
    expect(bytes.length).toBe(25_000);
    expect(huge.handed).toBe(3);
    expect(huge.cancelled).toBe(true);
  });
});

describe("timedReader", () => {
  test("a body that stalls fails with the timer's error and the request is aborted", async () => {
    const abort = new AbortController();
    const timer = new IdleTimer(20, () => new Error("timed out waiting for the manifest"), abort);
    const stalled = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([1, 2, 3]));
      },
    });
    const reader = timedReader(stalled, timer, (e) => e as Error);
    expect((await reader.read()).done).toBe(false);
    await expect(reader.read()).rejects.toThrow("timed out waiting for the manifest");
    expect(abort.signal.aborted).toBe(true);
  });

  test("other read failures go through mapError; a null body is empty", async () => {
    const timer = new IdleTimer(60_000, () => new Error("timeout"), new AbortController());
    const failing = new ReadableStream<Uint8Array>({
      pull() {
        throw new Error("socket closed; pass verbose: true");
      },
    });
    await expect(timedReader(failing, timer, () => new Error("the connection failed")).read()).rejects.toThrow("the connection failed");
    expect((await timedReader(null, timer, (e) => e as Error).read()).done).toBe(true);
  });
});
