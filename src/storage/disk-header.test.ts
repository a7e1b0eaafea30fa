import { describe, expect, test } from "bun:test";
import { inspectDiskHeader, isQcow2 } from "./disk-header.ts";
import { qcow2Header } from "../../tests/lib/storage.ts";

describe("inspectDiskHeader", () => {
  test("anything without the qcow2 magic is raw, whatever it is named", () => {
    expect(inspectDiskHeader(new Uint8Array(512))).toEqual({ format: "raw" });
    expect(inspectDiskHeader(new TextEncoder().encode("QFI"))).toEqual({ format: "raw" });
    expect(inspectDiskHeader(new Uint8Array(0))).toEqual({ format: "raw" });
  });

  test("reads a qcow2's virtual size and its backing file location", () => {
    expect(isQcow2(qcow2Header(1 << 30))).toBe(true);
    expect(inspectDiskHeader(qcow2Header(1 << 30))).toEqual({ format: "qcow2", virtualSize: 1 << 30, externalDataFile: false });
    expect(inspectDiskHeader(qcow2Header(4096, "/etc/shadow")).backing).toEqual({ offset: 1024, length: 11 });
  });

  test("flags an external data file (incompatible feature bit 2)", () => {
    const h = qcow2Header(4096);
    new DataView(h.buffer).setBigUint64(72, 4n);
    expect(inspectDiskHeader(h).externalDataFile).toBe(true);
  });

  test("refuses damaged qcow2 headers", () => {
    expect(() => inspectDiskHeader(qcow2Header(1).subarray(0, 40))).toThrow("cut short");
    const v9 = qcow2Header(1);
    new DataView(v9.buffer).setUint32(4, 9);
    expect(() => inspectDiskHeader(v9)).toThrow("version is 9");
    const long = qcow2Header(1, "x");
    new DataView(long.buffer).setUint32(16, 5000);
    expect(() => inspectDiskHeader(long)).toThrow("out of range");
  });
});
