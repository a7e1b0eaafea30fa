import { describe, expect, test } from "bun:test";
import { decodeFields, encodeFields, encodeStringMap, messagesOf, stringMapOf, stringOf, stringsOf, varintOf } from "./protobuf.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"));

describe("protobuf", () => {
  test("varints: 300 is ac 02 (the protobuf docs' example), bools are 1", () => {
    expect(hex(encodeFields([[3, 300]]))).toBe("18ac02");
    expect(hex(encodeFields([[1, true], [2, true]]))).toBe("08011001");
    expect(varintOf(decodeFields(bytes("18ac02")), 3)).toBe(300n);
  });

  test("proto3 defaults are not written; an empty message is", () => {
    expect(hex(encodeFields([[1, ""], [2, false], [3, 0], [4, undefined]]))).toBe("");
    expect(hex(encodeFields([[4, new Uint8Array(0)]]))).toBe("2200");
  });

  test("strings and repeated strings round-trip, in order, with UTF-8", () => {
    const f = decodeFields(encodeFields([[1, "a"], [1, "ü-b"], [2, "c"]]));
    expect(stringsOf(f, 1)).toEqual(["a", "ü-b"]);
    expect(stringOf(f, 2)).toBe("c");
    expect(stringOf(f, 9)).toBe("");
  });

  test("a nested message and a map<string,string>", () => {
    const inner = encodeFields([[1, "x"]]);
    const f = decodeFields(encodeFields([[5, inner], ...encodeStringMap(1, { A: "b", C: "" })]));
    expect(stringOf(decodeFields(messagesOf(f, 5)[0]!), 1)).toBe("x");
    expect(stringMapOf(f, 1)).toEqual({ A: "b", C: "" });
  });

  test("long length prefixes (over 127 bytes)", () => {
    const s = "x".repeat(1000);
    expect(stringOf(decodeFields(encodeFields([[1, s]])), 1)).toBe(s);
  });

  test("fixed32/fixed64 fields of a newer peer are skipped", () => {
    // field 7 fixed64, field 8 fixed32, then field 1 = "a"
    expect(stringOf(decodeFields(bytes("39" + "00".repeat(8) + "45" + "00".repeat(4) + "0a0161")), 1)).toBe("a");
  });

  test("truncated or malformed input is refused with the place", () => {
    expect(() => decodeFields(bytes("0a05616263"))).toThrow(/5 bytes announced, 3 left/);
    expect(() => decodeFields(bytes("08"))).toThrow(/varint: the message ends/);
    expect(() => decodeFields(bytes("0b"))).toThrow(/wire type 3/);
    expect(() => decodeFields(bytes("ffffffffffffffffffff01"))).toThrow(/longer than 10 bytes/);
    expect(() => varintOf(decodeFields(bytes("0a0161")), 1)).toThrow(/bytes where a varint/);
    expect(() => stringsOf(decodeFields(bytes("0801")), 1)).toThrow(/a varint where bytes/);
  });

  test("negative or fractional numbers are refused", () => {
    expect(() => encodeFields([[1, -1]])).toThrow(/not a non-negative integer/);
    expect(() => encodeFields([[1, 1.5]])).toThrow(/not a non-negative integer/);
  });
});
