import { describe, expect, test } from "bun:test";
import { DEFAULT_BACKOFF, failuresAfterExit, restartDelay } from "./backoff.ts";

describe("restart backoff", () => {
  test("doubles from 100 ms and caps at 30 s", () => {
    expect([0, 1, 2, 3].map((n) => restartDelay(n))).toEqual([100, 200, 400, 800]);
    expect(restartDelay(50)).toBe(30_000);
    expect(restartDelay(-1)).toBe(100);
  });

  test("a long uptime resets the failure count", () => {
    expect(failuresAfterExit(5, DEFAULT_BACKOFF.resetAfterMs)).toBe(0);
    expect(failuresAfterExit(5, 1_000)).toBe(5);
  });
});
