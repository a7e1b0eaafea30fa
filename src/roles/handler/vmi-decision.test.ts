import { describe, expect, test } from "bun:test";
import type { StatusReply } from "../../launcher/command/schema.ts";
import type { Vmi, VmiStatus } from "../controller/model.ts";
import type { PodView } from "../controller/reconcile-vmi.ts";
import { afterShutdown, decideVmi, endOfLauncher, startingLauncherRetryMs, type LauncherView } from "./vmi-decision.ts";

const now = new Date("2026-01-01T00:00:00Z");
const T = "2026-01-01T00:00:00Z";
const vmi = (status: VmiStatus, deleting = false): Vmi => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name: "vm1", namespace: "ns", uid: "vmi-uid", ...(deleting ? { deletionTimestamp: T } : {}) },
  spec: { domain: { devices: {}, memory: { guest: "64M" } }, terminationGracePeriodSeconds: 5 },
  status,
});
const pod = (exitCode?: number): PodView => ({
  metadata: { name: "virt-launcher-vm1-abcde", uid: "pod-uid" },
  spec: { nodeName: "n1" },
  status: { phase: "Running", containerStatuses: [{ name: "compute", state: exitCode === undefined ? { running: {} } : { terminated: { exitCode } } }] },
});
const reply = (state: StatusReply["state"], ips: string[] = []): LauncherView => ({
  kind: "status",
  reply: { state, reason: "r", interfaces: state === "running" ? [{ name: "default", mac: "02:00:00:00:00:01", ipAddresses: ips, podInterface: "eth0" }] : [], ready: true },
});
const scheduled: VmiStatus = { phase: "Scheduled", nodeName: "n1", conditions: [{ type: "Ready", status: "False", reason: "GuestNotRunning" }] };

describe("the handler's decision for one VMI", () => {
  test("Scheduled with a launcher that has no domain yet: sync, no status write", () => {
    const d = decideVmi({ vmi: vmi(scheduled), pod: pod(), launcher: reply("absent"), now });
    expect(d.command).toEqual({ kind: "sync" });
    expect(d.statusChanged).toBe(false);
  });

  test("a running domain: Running with its interfaces; conditions untouched (the controller's)", () => {
    const d = decideVmi({ vmi: vmi(scheduled), pod: pod(), launcher: reply("running", ["10.244.0.5"]), now });
    expect(d.command).toEqual({ kind: "none" });
    expect(d.status.phase).toBe("Running");
    expect(d.status.phaseTransitionTimestamps).toEqual([{ phase: "Running", phaseTransitionTimestamp: T }]);
    expect(d.status.interfaces).toEqual([{ name: "default", mac: "02:00:00:00:00:01", ipAddress: "10.244.0.5", ipAddresses: ["10.244.0.5"], interfaceName: "eth0" }]);
    expect(d.status.conditions).toEqual(scheduled.conditions!);
    expect(d.statusChanged).toBe(true);
  });

  test("Running and nothing new: no write; a new address: a write", () => {
    const first = decideVmi({ vmi: vmi(scheduled), pod: pod(), launcher: reply("running", ["10.244.0.5"]), now }).status;
    expect(decideVmi({ vmi: vmi(first), pod: pod(), launcher: reply("running", ["10.244.0.5"]), now }).statusChanged).toBe(false);
    const d = decideVmi({ vmi: vmi(first), pod: pod(), launcher: reply("running", ["10.244.0.6"]), now });
    expect(d.statusChanged).toBe(true);
    expect(d.status.phaseTransitionTimestamps).toHaveLength(1);
  });

  test("a launcher that cannot be reached changes nothing", () => {
    const d = decideVmi({ vmi: vmi({ ...scheduled, phase: "Running" }), pod: pod(), launcher: { kind: "unreachable", reason: "no socket" }, now });
    expect(d).toMatchObject({ command: { kind: "none" }, statusChanged: false });
  });

  test("a launcher starting (Scheduled, its socket not up yet): look again soon, not at the next resync", () => {
    const justScheduled: VmiStatus = { ...scheduled, phaseTransitionTimestamps: [{ phase: "Scheduled", phaseTransitionTimestamp: "2025-12-31T23:59:50Z" }] };
    const d = decideVmi({ vmi: vmi(justScheduled), pod: pod(), launcher: { kind: "unreachable", reason: "no socket" }, now });
    expect(d).toEqual({ command: { kind: "none" }, status: justScheduled, statusChanged: false, lookAgainMs: startingLauncherRetryMs });
    // Scheduled long ago (or when, unknown): no longer a starting launcher, the resync's pace.
    const longAgo: VmiStatus = { ...scheduled, phaseTransitionTimestamps: [{ phase: "Scheduled", phaseTransitionTimestamp: "2025-12-31T23:58:00Z" }] };
    expect(decideVmi({ vmi: vmi(longAgo), pod: pod(), launcher: { kind: "unreachable", reason: "no socket" }, now }).lookAgainMs).toBeUndefined();
    expect(decideVmi({ vmi: vmi(scheduled), pod: pod(), launcher: { kind: "unreachable", reason: "no socket" }, now }).lookAgainMs).toBeUndefined();
    expect(decideVmi({ vmi: vmi({ ...justScheduled, phase: "Running" }), pod: pod(), launcher: { kind: "unreachable", reason: "no socket" }, now }).lookAgainMs).toBeUndefined();
    expect(decideVmi({ vmi: vmi(justScheduled, true), pod: pod(), launcher: { kind: "unreachable", reason: "no socket" }, now }).lookAgainMs).toBeUndefined();
    expect(decideVmi({ vmi: vmi(justScheduled), pod: pod(), launcher: reply("absent"), now }).lookAgainMs).toBeUndefined();
  });

  test("the launcher exited: Succeeded on a power-off, Failed with a reason otherwise", () => {
    const running = { ...scheduled, phase: "Running" as const, interfaces: [{ name: "default" }] };
    const off = decideVmi({ vmi: vmi(running), pod: pod(0), launcher: null, now });
    expect(off.status.phase).toBe("Succeeded");
    expect(off.status.reason).toBeUndefined();
    expect(off.status.interfaces).toBeUndefined();
    const crashed = decideVmi({ vmi: vmi(running), pod: pod(3), launcher: null, now });
    expect(crashed.status).toMatchObject({ phase: "Failed", reason: "GuestCrashed" });
    expect(decideVmi({ vmi: vmi(scheduled), pod: pod(1), launcher: null, now }).status).toMatchObject({ phase: "Failed", reason: "LauncherFailed" });
    expect(endOfLauncher(137, false)).toEqual({ phase: "Failed", reason: "LauncherExited" });
    expect(endOfLauncher(2, false)).toEqual({ phase: "Failed", reason: "DomainDestroyed" });
    expect(endOfLauncher(2, true)).toEqual({ phase: "Succeeded" });
  });

  test("a deleted VMI: shutdown with its grace period; Succeeded once the domain is off", () => {
    const running = { ...scheduled, phase: "Running" as const };
    expect(decideVmi({ vmi: vmi(running, true), pod: pod(), launcher: reply("running"), now }).command).toEqual({ kind: "shutdown", graceSeconds: 5 });
    const off = decideVmi({ vmi: vmi(running, true), pod: pod(), launcher: reply("shutoff"), now });
    expect(off.command).toEqual({ kind: "none" });
    expect(off.status.phase).toBe("Succeeded");
    expect(afterShutdown({ state: "running", reason: "", interfaces: [], ready: true })).toEqual({ kind: "kill" });
    expect(afterShutdown({ state: "shutoff", reason: "", interfaces: [], ready: true })).toEqual({ kind: "none" });
  });

  test("phases that are not the handler's: nothing", () => {
    for (const phase of ["Pending", "Scheduling", "Succeeded", "Failed"] as const) {
      const d = decideVmi({ vmi: vmi({ phase }), pod: pod(0), launcher: reply("running"), now });
      expect(d).toMatchObject({ command: { kind: "none" }, statusChanged: false });
    }
  });
});
