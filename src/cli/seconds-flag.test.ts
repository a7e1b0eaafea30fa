import { expect, test } from "bun:test";
import { secondsFlag } from "./seconds-flag.ts";
import { UsageError } from "./usage.ts";

test("absent, seconds, fractions", () => {
  expect(secondsFlag("x", undefined)).toBeUndefined();
  expect(secondsFlag("x", "15", true)).toBe(15);
  expect(secondsFlag("x", "0.5")).toBe(0.5);
});

test.each([["0"], ["-1"], ["1s"], [""], ["1e3"]])("refuses %p", (value) => {
  expect(() => secondsFlag("lease", value)).toThrow(new UsageError(`--lease "${value}" is not a positive number of seconds`));
});

test("refuses a fraction where whole seconds are needed", () => {
  expect(() => secondsFlag("lease", "1.5", true)).toThrow('--lease "1.5" is not a positive whole number of seconds');
});
