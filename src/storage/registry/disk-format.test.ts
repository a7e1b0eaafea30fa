import { describe, expect, test } from "bun:test";
import { inspectDiskHeader } from "./disk-format.ts";

function qcow2Header(version: number, size: bigint, backing = 0n): Uint8Array {
  const h = new Uint8Array(512);
  const v = new DataView(h.buffer);
  v.setUint32(0, 0x514649fb);
  v.setUint32(4, version);
  v.setBigUint64(8, backing);
  v.setUint32(20, 16);
  v.setBigUint64(24, size);
  return h;
}

describe("inspectDiskHeader", () => {
  test("qcow2 by magic, virtual size from the header", () => {
    expect(inspectDiskHeader(qcow2Header(3, 10n * 1024n ** 3n), 196_608)).toEqual({ format: "qcow2", virtualSize: 10 * 1024 ** 3, bytes: 196_608 });
  });
  test("anything else is raw", () => {
    expect(inspectDiskHeader(new Uint8Array(512), 1 << 20)).toEqual({ format: "raw", virtualSize: 1 << 20, bytes: 1 << 20 });
    expect(inspectDiskHeader(new Uint8Array(3), 3).format).toBe("raw");
  });
  test("qcow2 with a backing file or unknown version is refused", () => {
    expect(() => inspectDiskHeader(qcow2Header(3, 1n, 1024n), 4096)).toThrow(/backing file/);
    expect(() => inspectDiskHeader(qcow2Header(9, 1n), 4096)).toThrow(/version 9/);
  });
});
