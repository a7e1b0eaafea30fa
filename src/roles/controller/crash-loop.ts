/**
 * KubeVirt's start-failure backoff (virt-controller's VM controller): a VMI
 * that ends before it ever reached Running counts as a start failure; the
 * next start waits `interval * failures²` seconds plus up to half of that
 * again at random (so failing VMs spread out), capped at 300 s; interval is
 * maxDelay/30 but at least 10 s. A VMI that reached Running, or a run
 * strategy that does not restart by itself, clears the count.
 */
import type { RunStrategy } from "../../api/v1/vm.ts";
import { isFinal, type StartFailure, type Vmi } from "./model.ts";

export const maxCrashLoopBackoffSeconds = 300;
const minIntervalSeconds = 10;

/** Seconds to wait before starting again after `failCount` consecutive start failures. */
export function startBackoffSeconds(failCount: number, random: () => number, maxDelay = maxCrashLoopBackoffSeconds): number {
  const n = Math.max(1, failCount);
  const interval = Math.max(minIntervalSeconds, Math.floor(maxDelay / 30));
  const base = interval * n * n;
  const jitter = Math.floor(random() * (Math.floor(base / 2) + 1));
  return Math.min(maxDelay, base + jitter);
}

/** The strategies that start a VMI again by themselves. */
export function restartsOnItsOwn(strategy: RunStrategy): boolean {
  return strategy === "Always" || strategy === "RerunOnFailure" || strategy === "Once";
}

export function wasRunning(vmi: Vmi | null): boolean {
  if (vmi === null) return false;
  if (vmi.status?.phase === "Running") return true;
  return (vmi.status?.phaseTransitionTimestamps ?? []).some((t) => t.phase === "Running");
}

/** Failed or Succeeded without ever running. */
export function failedEarly(vmi: Vmi | null): boolean {
  return vmi !== null && isFinal(vmi) && !wasRunning(vmi);
}

/**
 * The VM's startFailure after seeing `vmi` (KubeVirt's syncStartFailureStatus).
 * A failure is counted once per VMI uid.
 */
export function nextStartFailure(
  current: StartFailure | undefined,
  strategy: RunStrategy,
  vmi: Vmi | null,
  now: Date,
  random: () => number,
): StartFailure | undefined {
  if (wasRunning(vmi) || !restartsOnItsOwn(strategy)) return undefined;
  if (vmi === null || !failedEarly(vmi)) return current;
  const uid = vmi.metadata.uid;
  if (current !== undefined && uid !== undefined && current.lastFailedVMIUID === uid) return current;
  const count = (current?.consecutiveFailCount ?? 0) + 1;
  const delay = startBackoffSeconds(count, random);
  return {
    consecutiveFailCount: count,
    ...(uid !== undefined ? { lastFailedVMIUID: uid } : {}),
    retryAfterTimestamp: new Date(now.getTime() + delay * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
}

/** Milliseconds until the backoff allows a start; 0 when it does now. */
export function backoffLeftMs(failure: StartFailure | undefined, now: Date): number {
  if (failure?.retryAfterTimestamp === undefined) return 0;
  const at = Date.parse(failure.retryAfterTimestamp);
  if (Number.isNaN(at)) return 0;
  return Math.max(0, at - now.getTime());
}
