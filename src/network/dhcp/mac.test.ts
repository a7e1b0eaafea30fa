import { expect, test } from "bun:test";
import { formatMac, normalizeMac, parseMac } from "./mac.ts";

test("MAC helpers", () => {
  expect(Array.from(parseMac("02:AB:00:00:00:01") ?? [])).toEqual([2, 0xab, 0, 0, 0, 1]);
  expect(parseMac("02:ab:00:00:00")).toBeNull();
  expect(parseMac("02-ab-00-00-00-01")).toBeNull();
  expect(formatMac(Uint8Array.of(2, 0xab, 0, 0, 0, 1))).toBe("02:ab:00:00:00:01");
  expect(normalizeMac("02:AB:00:00:00:01")).toBe("02:ab:00:00:00:01");
});
