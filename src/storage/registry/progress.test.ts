import { expect, test } from "bun:test";
import { ProgressMeter, type PullProgress } from "./progress.ts";

test("reports at most every interval, with the rate since the previous report, and at the end", () => {
  let now = 0;
  const seen: PullProgress[] = [];
  const meter = new ProgressMeter(1000, 500, () => now);
  meter.subscribe((p) => seen.push(p));
  for (let i = 0; i < 10; i++) {
    now += 100;
    meter.add(50);
  }
  expect(seen).toEqual([
    { bytes: 250, totalBytes: 1000, bytesPerSecond: 500 },
    { bytes: 500, totalBytes: 1000, bytesPerSecond: 500 },
  ]);
  now += 50;
  meter.add(10);
  meter.finish();
  expect(seen.at(-1)).toEqual({ bytes: 510, totalBytes: 1000, bytesPerSecond: 200 });
  meter.finish();
  expect(seen).toHaveLength(3);
  expect(meter.received).toBe(510);
});

test("a throwing listener does not break the meter", () => {
  let now = 0;
  const meter = new ProgressMeter(10, 1, () => now);
  meter.subscribe(() => {
    throw new Error("boom");
  });
  now = 5;
  expect(() => meter.add(1)).not.toThrow();
});
