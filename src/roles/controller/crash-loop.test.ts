import { describe, expect, test } from "bun:test";
import { backoffLeftMs, nextStartFailure, startBackoffSeconds } from "./crash-loop.ts";
import type { Vmi, VmiStatus } from "./model.ts";

const vmi = (uid: string, status: VmiStatus): Vmi => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name: "vm1", namespace: "default", uid },
  spec: { domain: { devices: {} } },
  status,
});
const now = new Date("2026-01-01T00:00:00Z");
const low = (): number => 0;
const high = (): number => 0.999999;

describe("startBackoffSeconds (KubeVirt: 10 s × failures², plus up to half again, capped at 300 s)", () => {
  test("without jitter: 10, 40, 90, 160, 250, then the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 20].map((n) => startBackoffSeconds(n, low))).toEqual([10, 40, 90, 160, 250, 300, 300]);
  });
  test("jitter adds at most half of the delay", () => {
    expect(startBackoffSeconds(1, high)).toBe(15);
    expect(startBackoffSeconds(2, high)).toBe(60);
    expect(startBackoffSeconds(4, high)).toBe(240);
    expect(startBackoffSeconds(5, high)).toBe(300);
  });
  test("a count of 0 counts as 1", () => {
    expect(startBackoffSeconds(0, low)).toBe(10);
  });
});

describe("nextStartFailure", () => {
  test("a VMI that failed before running counts once, with the retry time", () => {
    const f = nextStartFailure(undefined, "Always", vmi("u1", { phase: "Failed" }), now, low);
    expect(f).toEqual({ consecutiveFailCount: 1, lastFailedVMIUID: "u1", retryAfterTimestamp: "2026-01-01T00:00:10Z" });
    expect(nextStartFailure(f, "Always", vmi("u1", { phase: "Failed" }), now, low)).toBe(f!);
    const g = nextStartFailure(f, "Always", vmi("u2", { phase: "Failed" }), now, low);
    expect(g?.consecutiveFailCount).toBe(2);
    expect(g?.retryAfterTimestamp).toBe("2026-01-01T00:00:40Z");
  });
  test("a VMI that reached Running clears the count", () => {
    const f = { consecutiveFailCount: 3, lastFailedVMIUID: "u1" };
    expect(nextStartFailure(f, "Always", vmi("u2", { phase: "Running" }), now, low)).toBeUndefined();
    const ended = vmi("u3", { phase: "Failed", phaseTransitionTimestamps: [{ phase: "Running" }, { phase: "Failed" }] });
    expect(nextStartFailure(f, "Always", ended, now, low)).toBeUndefined();
  });
  test("Manual and Halted do not back off", () => {
    const f = { consecutiveFailCount: 1 };
    expect(nextStartFailure(f, "Manual", vmi("u2", { phase: "Failed" }), now, low)).toBeUndefined();
    expect(nextStartFailure(f, "Halted", null, now, low)).toBeUndefined();
  });
  test("no VMI, or one still starting, keeps what was recorded", () => {
    const f = { consecutiveFailCount: 2 };
    expect(nextStartFailure(f, "Always", null, now, low)).toBe(f);
    expect(nextStartFailure(f, "Always", vmi("u9", { phase: "Scheduling" }), now, low)).toBe(f);
  });
});

test("backoffLeftMs counts down to the retry time", () => {
  const f = { consecutiveFailCount: 1, retryAfterTimestamp: "2026-01-01T00:00:10Z" };
  expect(backoffLeftMs(f, now)).toBe(10_000);
  expect(backoffLeftMs(f, new Date("2026-01-01T00:00:11Z"))).toBe(0);
  expect(backoffLeftMs(undefined, now)).toBe(0);
});
