import { expect, test } from "bun:test";
import { allowedCpus, allowedCpusOf, parseCpuList } from "./cpu-affinity.ts";

test("kernel CPU lists: single CPUs, ranges, both; anything else is null", () => {
  expect(parseCpuList("0-3,8,10-11\n")).toEqual([0, 1, 2, 3, 8, 10, 11]);
  expect(parseCpuList("5")).toEqual([5]);
  expect(parseCpuList("")).toEqual([]);
  expect(parseCpuList("3-1")).toBeNull();
  expect(parseCpuList("0-999999")).toBeNull();
  expect(parseCpuList("a")).toBeNull();
  expect(parseCpuList("1,,2")).toBeNull();
});

test("from /proc/self/status", () => {
  expect(allowedCpusOf("Name:\tx\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed:\t1\n")).toEqual([0, 1]);
  expect(allowedCpusOf("Name:\tx\n")).toBeNull();
  const mine = allowedCpus();
  expect(mine.length).toBeGreaterThan(0);
  expect(mine.length).toBeLessThanOrEqual(navigator.hardwareConcurrency);
});
