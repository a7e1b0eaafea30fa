import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SparseFileWriter } from "./sparse-writer.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
async function dir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "bunvirt-sparse-"));
  dirs.push(d);
  return d;
}

describe("SparseFileWriter", () => {
  test("content is exact whatever the chunking, zeros become holes", async () => {
    const MiB = 1024 * 1024;
    const content = new Uint8Array(40 * MiB);
    content.fill(7, 0, 5000); // data, then zeros
    content.fill(9, 20 * MiB + 100, 20 * MiB + 9000); // data in the middle, unaligned
    content[content.length - 1] = 1; // a last byte after a long zero run
    const path = join(await dir(), "disk.raw");
    const writer = await SparseFileWriter.create(path, 64 * MiB, () => new Error("too large"), 1 * MiB);
    for (let at = 0; at < content.length; at += 300_001) await writer.write(content.subarray(at, Math.min(content.length, at + 300_001)));
    expect(await writer.finish()).toBe(content.length);
    const read = new Uint8Array(await readFile(path));
    expect(read.length).toBe(content.length);
    expect(Buffer.from(read).equals(Buffer.from(content))).toBe(true);
    const info = await stat(path);
    expect(info.blocks * 512).toBeLessThan(1 * MiB); // 40 MiB logical, a few blocks of data
  });

  test("a file of only zeros keeps its length and allocates nothing", async () => {
    const path = join(await dir(), "zeros.raw");
    const writer = await SparseFileWriter.create(path, 1 << 30, () => new Error("too large"));
    for (let i = 0; i < 8; i++) await writer.write(new Uint8Array(3 * 1024 * 1024 + 1));
    await writer.finish();
    const info = await stat(path);
    expect(info.size).toBe(8 * (3 * 1024 * 1024 + 1));
    expect(info.blocks).toBe(0);
  });

  test("refuses to grow past the cap, before writing the chunk that crosses it", async () => {
    const path = join(await dir(), "big.raw");
    const writer = await SparseFileWriter.create(path, 10_000, () => new Error("larger than the maximum disk size"));
    await writer.write(new Uint8Array(6000).fill(1));
    await expect(writer.write(new Uint8Array(6000).fill(1))).rejects.toThrow("larger than the maximum disk size");
    await writer.close();
  });
});
