import { describe, expect, test } from "bun:test";
import { parseQuantity } from "./quantity.ts";

describe("parseQuantity", () => {
  const cases: [string | number, number | null][] = [
    ["64M", 64e6],
    ["128Mi", 128 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["500m", 0.5],
    ["2", 2],
    [2, 2],
    ["1e3", 1000],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["1k", 1000],
    ["", null],
    ["12 Mi", null],
    ["Mi", null],
    ["1MB", null],
    [" 1", null],
    ["1e30", 1e30],
    ["1e400", null],
    ["1e308Ei", null],
    [Number.POSITIVE_INFINITY, null],
  ];
  for (const [input, want] of cases) {
    test(`${JSON.stringify(input)} -> ${want}`, () => expect(parseQuantity(input)).toBe(want));
  }
});
