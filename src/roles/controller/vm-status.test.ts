import { describe, expect, test } from "bun:test";
import type { Condition, PrintableStatus, Vm, Vmi, VmiStatus } from "./model.ts";
import { printableStatus, vmStatus, type StatusInput } from "./vm-status.ts";

const now = new Date("2026-01-01T00:00:00Z");
const vm = (extra: Partial<Vm> = {}): Vm => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name: "vm1", namespace: "ns", uid: "vm-uid" },
  spec: { runStrategy: "Always", template: { spec: { domain: { devices: {} } } } },
  ...extra,
});
const vmi = (status: VmiStatus, deleting = false): Vmi => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name: "vm1", uid: "vmi-uid", ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
  spec: { domain: { devices: {} } },
  status,
});
const input = (over: Partial<StatusInput>): StatusInput => ({
  vm: vm(), vmi: null, strategy: "Always", startFailure: undefined, startExpected: false, stopExpected: false, now, ...over,
});
const ready: Condition = { type: "Ready", status: "True", lastProbeTime: null, lastTransitionTime: "2025-12-31T00:00:00Z" };

describe("printableStatus (kubectl get vm's STATUS), in KubeVirt's order", () => {
  const table: [string, Partial<StatusInput>, PrintableStatus][] = [
    ["no VMI, none expected: Stopped", {}, "Stopped"],
    ["no VMI, a create just sent: Starting", { startExpected: true }, "Starting"],
    ["VMI Pending: Starting", { vmi: vmi({ phase: "Pending" }) }, "Starting"],
    ["VMI without a phase: Starting", { vmi: vmi({}) }, "Starting"],
    ["VMI Scheduling: Starting", { vmi: vmi({ phase: "Scheduling" }) }, "Starting"],
    ["VMI Scheduled: Starting", { vmi: vmi({ phase: "Scheduled" }) }, "Starting"],
    ["VMI Running: Running", { vmi: vmi({ phase: "Running" }) }, "Running"],
    ["VMI Running and Paused: Paused", { vmi: vmi({ phase: "Running", conditions: [{ type: "Paused", status: "True" }] }) }, "Paused"],
    ["VMI being deleted: Stopping", { vmi: vmi({ phase: "Running" }, true) }, "Stopping"],
    ["VMI delete just sent: Stopping", { vmi: vmi({ phase: "Running" }), stopExpected: true }, "Stopping"],
    ["VMI Succeeded: Stopped", { vmi: vmi({ phase: "Succeeded" }) }, "Stopped"],
    ["VM being deleted: Terminating", { vm: vm({ metadata: { name: "vm1", deletionTimestamp: "2026-01-01T00:00:00Z" } }), vmi: vmi({ phase: "Running" }) }, "Terminating"],
    ["pod unschedulable: ErrorUnschedulable",
      { vmi: vmi({ phase: "Scheduling", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }] }) }, "ErrorUnschedulable"],
    ["image pull failing: ErrImagePull", { vmi: vmi({ phase: "Scheduling", conditions: [{ type: "Synchronized", status: "False", reason: "ErrImagePull" }] }) }, "ErrImagePull"],
    ["image pull backing off: ImagePullBackOff",
      { vmi: vmi({ phase: "Scheduling", conditions: [{ type: "Synchronized", status: "False", reason: "ImagePullBackOff" }] }) }, "ImagePullBackOff"],
    ["claim missing: ErrorPvcNotFound", { vmi: vmi({ phase: "Pending", conditions: [{ type: "Synchronized", status: "False", reason: "FailedPvcNotFound" }] }) }, "ErrorPvcNotFound"],
    ["start failures, waiting out the backoff: CrashLoopBackOff", { startFailure: { consecutiveFailCount: 1 } }, "CrashLoopBackOff"],
    ["start failures, failed VMI: CrashLoopBackOff", { vmi: vmi({ phase: "Failed" }), startFailure: { consecutiveFailCount: 3 } }, "CrashLoopBackOff"],
    ["start failures but a new VMI is starting: Starting", { startFailure: { consecutiveFailCount: 1 }, startExpected: true }, "Starting"],
    ["start failures under Manual: Stopped", { startFailure: { consecutiveFailCount: 1 }, strategy: "Manual" }, "Stopped"],
  ];
  for (const [name, over, want] of table) test(name, () => expect(printableStatus(input(over))).toBe(want));
});

describe("vmStatus", () => {
  test("no VMI: not created, not ready, Ready False VMINotExists; runStrategy not yet recorded", () => {
    const s = vmStatus(input({}));
    expect(s).toEqual({
      created: false,
      ready: false,
      printableStatus: "Stopped",
      conditions: [{ type: "Ready", status: "False", reason: "VMINotExists", message: "VMI does not exist", lastProbeTime: "2026-01-01T00:00:00Z", lastTransitionTime: "2026-01-01T00:00:00Z" }],
    });
  });

  test("a ready VMI: created, ready, its conditions mirrored, runStrategy recorded", () => {
    const s = vmStatus(input({ vmi: vmi({ phase: "Running", conditions: [ready, { type: "LiveMigratable", status: "False", reason: "NotMigratable" }] }) }));
    expect(s.created).toBe(true);
    expect(s.ready).toBe(true);
    expect(s.runStrategy).toBe("Always");
    expect(s.conditions).toEqual([ready, { type: "LiveMigratable", status: "False", reason: "NotMigratable" }]);
  });

  test("a condition keeps its transition time while its status and reason stay; VMI conditions that went away go", () => {
    const old: Condition = { type: "Ready", status: "False", reason: "VMINotExists", lastTransitionTime: "2025-01-01T00:00:00Z" };
    const s = vmStatus(input({ vm: vm({ status: { conditions: [old, { type: "LiveMigratable", status: "True" }] } }) }));
    expect(s.conditions).toEqual([old, { type: "LiveMigratable", status: "True" }]);
    const t = vmStatus(input({ vm: vm({ status: { conditions: [old, { type: "LiveMigratable", status: "True" }] } }), vmi: vmi({ phase: "Running", conditions: [ready] }) }));
    expect(t.conditions).toEqual([ready]);
  });

  test("a sync error is the Failure condition; it goes when the next sync succeeds", () => {
    const s = vmStatus(input({ syncError: { reason: "FailedCreate", message: "Cannot create the VMI: quota" } }));
    expect(s.conditions?.find((c) => c.type === "Failure")).toMatchObject({ status: "True", reason: "FailedCreate", message: "Cannot create the VMI: quota" });
    expect(vmStatus(input({ vm: vm({ status: s }) })).conditions?.some((c) => c.type === "Failure")).toBe(false);
  });

  test("a start request is trimmed once its VMI runs; a stop request once the VMI is gone", () => {
    const starting = vm({ status: { stateChangeRequests: [{ action: "Start" }] } });
    expect(vmStatus(input({ vm: starting })).stateChangeRequests).toEqual([{ action: "Start" }]);
    expect(vmStatus(input({ vm: starting, vmi: vmi({ phase: "Scheduling" }) })).stateChangeRequests).toBeUndefined();
    const stopping = vm({ status: { stateChangeRequests: [{ action: "Stop", uid: "vmi-uid" }] } });
    expect(vmStatus(input({ vm: stopping, vmi: vmi({ phase: "Running" }) })).stateChangeRequests).toHaveLength(1);
    expect(vmStatus(input({ vm: stopping })).stateChangeRequests).toBeUndefined();
  });

  test("unknown status keys survive", () => {
    expect(vmStatus(input({ vm: vm({ status: { desiredGeneration: 3 } }) })).desiredGeneration).toBe(3);
  });
});
