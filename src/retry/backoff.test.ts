import { describe, expect, test } from "bun:test";
import { backoffDelay, type BackoffPolicy, clusterBackoff, daemonRestarts, failuresAfterExit } from "./backoff.ts";

const low = (): number => 0;
const high = (): number => 0.999999;
const mid = (): number => 0.5;

describe("backoffDelay", () => {
  test("the ceiling doubles from initialMs and stops at maxMs", () => {
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, clusterBackoff, high))).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(backoffDelay(6, clusterBackoff, high)).toBe(30_000);
    expect(backoffDelay(1_000, clusterBackoff, high)).toBe(30_000);
  });

  test("equal jitter: the delay is drawn from the upper half of the ceiling", () => {
    expect(backoffDelay(0, clusterBackoff, low)).toBe(250);
    expect(backoffDelay(0, clusterBackoff, mid)).toBe(375);
    expect(backoffDelay(3, clusterBackoff, low)).toBe(2000);
    expect(backoffDelay(3, clusterBackoff, high)).toBe(4000);
    expect(backoffDelay(50, clusterBackoff, low)).toBe(15_000);
    expect(backoffDelay(50, clusterBackoff, high)).toBe(30_000);
  });

  test("different random draws give different delays (retries that failed together spread)", () => {
    const draws = [0, 0.25, 0.5, 0.75].map((r) => backoffDelay(4, daemonRestarts, () => r));
    expect(draws).toEqual([800, 1000, 1200, 1400]);
  });

  test("jitter 0 is plain exponential backoff; jitter 1 is full jitter", () => {
    const plain: BackoffPolicy = { initialMs: 100, factor: 3, maxMs: 10_000, jitter: 0 };
    expect([0, 1, 2, 5].map((n) => backoffDelay(n, plain, mid))).toEqual([100, 300, 900, 10_000]);
    const full: BackoffPolicy = { ...plain, jitter: 1 };
    expect(backoffDelay(2, full, low)).toBe(0);
    expect(backoffDelay(2, full, mid)).toBe(450);
  });

  test("an attempt that is not a whole number ≥ 0 counts as the first", () => {
    for (const n of [-1, Number.NaN, Number.NEGATIVE_INFINITY]) expect(backoffDelay(n, daemonRestarts, high)).toBe(100);
    expect(backoffDelay(1.7, daemonRestarts, high)).toBe(200);
  });

  test("a random source outside [0, 1) is clamped", () => {
    expect(backoffDelay(0, clusterBackoff, () => -3)).toBe(250);
    expect(backoffDelay(0, clusterBackoff, () => 7)).toBe(500);
  });
});

test("a run of resetAfterMs or more resets the failure count", () => {
  expect(failuresAfterExit(5, daemonRestarts.resetAfterMs, daemonRestarts)).toBe(0);
  expect(failuresAfterExit(5, daemonRestarts.resetAfterMs - 1, daemonRestarts)).toBe(5);
});
