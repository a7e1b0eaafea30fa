// The test reader must reject broken images, or the round-trip tests prove little.
import { describe, expect, test } from "bun:test";
import { buildIso } from "./index.ts";
import { readIso } from "../../../../tests/lib/iso9660-read.ts";

const good = buildIso({
  volumeId: "cidata",
  files: [
    { name: "meta-data", data: new TextEncoder().encode("instance-id: a\n") },
    { name: "user-data", data: new Uint8Array(3000).fill(7) },
  ],
});

function corrupt(edit: (image: Uint8Array) => void): Uint8Array {
  const copy = good.slice();
  edit(copy);
  return copy;
}

const sector = (n: number): number => n * 2048;

describe("readIso rejects", () => {
  test("a good image is accepted", () => {
    expect(readIso(good).primary.entries.length).toBe(2);
  });

  test("differing both-endian halves", () => {
    expect(() => readIso(corrupt((b) => (b[sector(16) + 87] = 0x7f)))).toThrow("volume space size");
  });

  test("a truncated image", () => {
    expect(() => readIso(good.subarray(0, good.length - 2048))).toThrow("does not match the image");
  });

  test("a missing terminator", () => {
    expect(() => readIso(corrupt((b) => b.fill(0, sector(18), sector(19))))).toThrow("not a volume descriptor");
  });

  test("an M path table that disagrees with the L one", () => {
    expect(() => readIso(corrupt((b) => (b[sector(20) + 5] = 0x63)))).toThrow("L and M path tables differ");
  });

  test("a malformed SP entry", () => {
    // "." record of the primary root: 34 fixed bytes, then SP.
    expect(() => readIso(corrupt((b) => (b[sector(23) + 34 + 4] = 0)))).toThrow("malformed SP");
  });

  test("records out of order", () => {
    const image = readIso(good);
    const [first, second] = image.primary.entries;
    expect(first?.identifier).toBe("META_DAT.;1");
    expect(second?.identifier).toBe("USER_DAT.;1");
    // Swap the first letters of the two identifiers in place: "UETA_DAT" sorts after "MSER_DAT".
    const dir = good.subarray(sector(23), sector(24));
    const find = (s: string): number => Buffer.from(dir).indexOf(s);
    const a = find("META_DAT");
    const c = find("USER_DAT");
    const broken = corrupt((b) => {
      b[sector(23) + a] = 0x55;
      b[sector(23) + c] = 0x4d;
    });
    expect(() => readIso(broken)).toThrow("out of order");
  });
});
