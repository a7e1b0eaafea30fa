import { expect, test } from "bun:test";
import { backoffDelay } from "./backoff.ts";

test("grows exponentially, capped, with jitter in the upper half", () => {
  const lo = { random: () => 0 };
  const hi = { random: () => 0.999999 };
  expect(backoffDelay(0, lo)).toBe(250);
  expect(backoffDelay(3, lo)).toBe(2000);
  expect(backoffDelay(3, hi)).toBe(4000);
  expect(backoffDelay(50, hi)).toBe(30000);
  expect(backoffDelay(50, lo)).toBe(15000);
});
