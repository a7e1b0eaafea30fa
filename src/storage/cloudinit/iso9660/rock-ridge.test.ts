import { describe, expect, test } from "bun:test";
import { ceEntry, erEntry, nmEntry, placeSystemUse, pxEntry, rrEntry, spEntry, tfEntry } from "./rock-ridge.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("SUSP/RRIP entries", () => {
  test("SP carries the check bytes and a zero skip length", () => {
    expect(hex(spEntry())).toBe("53500701beef00");
  });

  test("RR lists the entries present", () => {
    expect(hex(rrEntry(0x89))).toBe("5252050189");
  });

  test("PX is the 44-byte RRIP 1.12 form, both byte orders", () => {
    const px = pxEntry({ mode: 0o100444, links: 1, uid: 0, gid: 0, serial: 7 });
    expect(px.length).toBe(44);
    expect(hex(px.subarray(0, 12))).toBe("50582c01" + "24810000" + "00008124");
    expect(hex(px.subarray(36))).toBe("0700000000000007");
  });

  test("TF holds modify, access and attribute times in short form", () => {
    const tf = tfEntry(new Date("2024-05-06T07:08:09Z"));
    expect(hex(tf)).toBe("54461a010e" + "7c0506070809 00".replace(" ", "").repeat(3));
  });

  test("NM holds the UTF-8 name", () => {
    expect(hex(nmEntry("user-data"))).toBe("4e4d0e0100" + hex(new TextEncoder().encode("user-data")));
  });

  test("CE points at extent, offset and length", () => {
    expect(hex(ceEntry(0x1a, 0x10, 0xed))).toBe(
      "43451c01" + "1a0000000000001a" + "1000000000000010" + "ed000000000000ed",
    );
  });

  test("ER declares IEEE_P1282", () => {
    const er = erEntry();
    expect(er[2]).toBe(er.length);
    expect(new TextDecoder().decode(er.subarray(8, 8 + (er[4] ?? 0)))).toBe("IEEE_P1282");
  });
});

describe("placeSystemUse", () => {
  const bytes = (n: number): Uint8Array => new Uint8Array(n);

  test("keeps everything in the record when it fits in 254 bytes", () => {
    const p = placeSystemUse(34, [bytes(100), bytes(120)]);
    expect(p.continuation).toEqual([]);
    expect(p.inlineLength).toBe(220);
  });

  test("moves the first entry that does not fit, and all after it, behind a CE", () => {
    const entries = [bytes(7), bytes(44), bytes(237), bytes(5)];
    const p = placeSystemUse(34, entries);
    expect(p.inline.map((e) => e.length)).toEqual([7, 44]);
    expect(p.continuation.map((e) => e.length)).toEqual([237, 5]);
    expect(p.inlineLength).toBe(7 + 44 + 28);
    expect(p.continuationLength).toBe(242);
  });

  test("never lets an odd total reach 255 (records are even)", () => {
    const p = placeSystemUse(34, [bytes(221)]);
    expect(p.continuation.length).toBe(1);
  });
});
