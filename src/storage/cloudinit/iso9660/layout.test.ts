import { describe, expect, test } from "bun:test";
import { directoryRecordLength, packDirectory } from "./directory-record.ts";
import { packContinuationAreas, planLayout } from "./layout.ts";

describe("directory records", () => {
  test("lengths are even and include the identifier padding", () => {
    expect(directoryRecordLength(1, 0)).toBe(34);
    expect(directoryRecordLength(11, 0)).toBe(44);
    expect(directoryRecordLength(12, 0)).toBe(46);
    expect(directoryRecordLength(1, 7)).toBe(42);
  });

  test("packing never crosses a sector boundary", () => {
    const packed = packDirectory(Array.from({ length: 20 }, () => 200));
    for (const offset of packed.offsets) expect((offset % 2048) + 200).toBeLessThanOrEqual(2048);
    expect(packed.offsets[10]).toBe(2048);
    expect(packed.byteLength).toBe(4096);
  });

  test("an empty directory still takes one sector", () => {
    expect(packDirectory([]).byteLength).toBe(2048);
  });
});

describe("planLayout", () => {
  test("places descriptors, path tables, directories and files in order", () => {
    const layout = planLayout({
      pathTableSize: 10,
      primaryDirectoryBytes: 2048,
      jolietDirectoryBytes: 4096,
      continuationBytes: 2048,
      fileSizes: [1, 0, 2049],
    });
    expect([layout.primaryVolumeDescriptor, layout.jolietVolumeDescriptor, layout.terminator]).toEqual([16, 17, 18]);
    expect(
      [layout.primaryLPathTable, layout.primaryMPathTable, layout.jolietLPathTable, layout.jolietMPathTable].map(
        (e) => e.sector,
      ),
    ).toEqual([19, 20, 21, 22]);
    expect(layout.primaryDirectory).toEqual({ sector: 23, sectors: 1 });
    expect(layout.jolietDirectory).toEqual({ sector: 24, sectors: 2 });
    expect(layout.continuation).toEqual({ sector: 26, sectors: 1 });
    expect(layout.files).toEqual([
      { sector: 27, sectors: 1 },
      { sector: 0, sectors: 0 },
      { sector: 28, sectors: 2 },
    ]);
    expect(layout.totalSectors).toBe(30);
  });

  test("continuation areas do not cross sectors", () => {
    const { slots, byteLength } = packContinuationAreas([1000, 1000, 100, 2048]);
    expect(slots).toEqual([
      { sector: 0, offset: 0 },
      { sector: 0, offset: 1000 },
      { sector: 1, offset: 0 },
      { sector: 2, offset: 0 },
    ]);
    expect(byteLength).toBe(3 * 2048);
  });
});
