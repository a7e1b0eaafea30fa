import { expect, test } from "bun:test";
import type { Vm, Vmi, VmiStatus } from "./model.ts";
import { reconcileVm, type ReconcileVmInput } from "./reconcile-vm.ts";
import { vmControllerFinalizer } from "./vmi-from-vm.ts";

const t0 = new Date("2026-01-01T00:00:00Z");
const at = (s: number): Date => new Date(t0.getTime() + s * 1000);
const vm = (status?: Vm["status"]): Vm => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name: "vm1", namespace: "ns", uid: "vm-uid", finalizers: [vmControllerFinalizer] },
  spec: { runStrategy: "Always", template: { spec: { domain: { devices: {} } } } },
  ...(status !== undefined ? { status } : {}),
});
const vmi = (uid: string, status: VmiStatus): Vmi => ({
  apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", metadata: { name: "vm1", namespace: "ns", uid }, spec: { domain: { devices: {} } }, status,
});
const run = (over: Partial<ReconcileVmInput>) => reconcileVm({ vm: vm(), vmi: null, now: t0, random: () => 0, pending: { creates: false, deletes: false }, ...over });

test("a new Always VM: create the VMI, status Starting, an event to record", () => {
  const r = run({});
  expect(r.action.kind).toBe("create");
  expect(r.status.printableStatus).toBe("Starting");
  // Not written yet: it waits for the VMI's first status.
  expect(r.statusChanged).toBe(false);
  expect(r.event).toEqual({ type: "Normal", reason: "SuccessfulCreate", message: "Started the virtual machine by creating the new virtual machine instance vm1" });
});

test("the status waits for the VMI to settle (at most 2 s), then is one write", () => {
  const young = vmi("a", {});
  // The VMI is not in the cache yet: the VM waits (its arrival queues it again; 2 s at most).
  let r = run({ pending: { creates: true, deletes: false } });
  expect([r.statusChanged, r.statusHeld, r.requeueAfterMs]).toEqual([false, true, 2000]);
  // In the cache, the VMI controller about to make its pod and write its status: wait out the rest of the 2 s.
  r = run({ vmi: young, vmiUpdateDue: true, statusHeldMs: 500 });
  expect([r.statusChanged, r.requeueAfterMs]).toEqual([false, 1500]);
  // Settled: written at once, created and Starting with the VMI's Ready condition.
  const ready = { type: "Ready", status: "False" as const, reason: "GuestNotRunning", message: "Guest VM is not reported as running" };
  r = run({ vmi: { ...young, status: { phase: "Scheduling", conditions: [ready] } }, statusHeldMs: 500 });
  expect([r.statusChanged, r.statusHeld, r.requeueAfterMs]).toEqual([true, undefined, undefined]);
  expect(r.status).toMatchObject({ created: true, printableStatus: "Starting", conditions: [ready] });
  // Still unsettled after 2 s: written anyway.
  r = run({ vmi: young, vmiUpdateDue: true, statusHeldMs: 2000 });
  expect([r.statusChanged, r.status.printableStatus]).toEqual([true, "Starting"]);
  // Nothing to write: nothing held.
  expect(run({ vm: vm(r.status), vmi: young, vmiUpdateDue: true }).statusHeld).toBeUndefined();
  // A failed create is shown at once.
  expect(run({ syncError: { reason: "FailedCreate", message: "quota" } }).statusChanged).toBe(true);
  // The VM's own state waits for nothing: a start request taken off once its VMI exists is written at once.
  const requested = vm({ stateChangeRequests: [{ action: "Start" }] });
  r = run({ vm: requested, vmi: young, vmiUpdateDue: true });
  expect([r.status.stateChangeRequests, r.statusChanged]).toEqual([undefined, true]);
});

test("pending expectations: no second create while the cache lags", () => {
  const r = run({ pending: { creates: true, deletes: false } });
  expect(r.action.kind).toBe("none");
  expect(r.status.printableStatus).toBe("Starting");
});

test("the crash loop: each early failure waits longer, CrashLoopBackOff meanwhile, cleared once a VMI runs", () => {
  // The first VMI fails before running: it is deleted and the failure counted.
  const failed = vmi("a", { phase: "Failed" });
  failed.metadata.finalizers = [vmControllerFinalizer];
  let r = run({ vmi: failed });
  expect(r.action.kind).toBe("delete");
  expect(r.releaseVmi).toBe(true);
  expect(r.status.startFailure).toEqual({ consecutiveFailCount: 1, lastFailedVMIUID: "a", retryAfterTimestamp: "2026-01-01T00:00:10Z" });
  // The VMI is gone; within the backoff nothing starts and the VM shows CrashLoopBackOff.
  let status = r.status;
  r = run({ vm: vm(status), now: at(4) });
  expect(r.action.kind).toBe("none");
  expect(r.requeueAfterMs).toBe(6000);
  expect(r.status.printableStatus).toBe("CrashLoopBackOff");
  // After it, a new VMI; it fails too: 40 s this time.
  r = run({ vm: vm(status), now: at(10) });
  expect(r.action.kind).toBe("create");
  r = run({ vm: vm(status), vmi: vmi("b", { phase: "Failed" }), now: at(20) });
  expect(r.status.startFailure?.consecutiveFailCount).toBe(2);
  expect(r.status.startFailure?.retryAfterTimestamp).toBe("2026-01-01T00:01:00Z");
  status = r.status;
  // The third one reaches Running: the count is cleared.
  r = run({ vm: vm(status), vmi: vmi("c", { phase: "Running" }), now: at(100) });
  expect(r.status.startFailure).toBeUndefined();
  expect(r.status.printableStatus).toBe("Running");
});

test("RerunOnFailure: a failed VMI is deleted and a start request queued, which starts the next one", () => {
  const v = vm({ runStrategy: "RerunOnFailure", created: true });
  v.spec.runStrategy = "RerunOnFailure";
  const r = run({ vm: v, vmi: vmi("a", { phase: "Failed", phaseTransitionTimestamps: [{ phase: "Running" }] }) });
  expect(r.action.kind).toBe("delete");
  expect(r.status.stateChangeRequests).toEqual([{ action: "Start" }]);
  const next = run({ vm: { ...v, status: r.status } });
  expect(next.action.kind).toBe("create");
});

test("a steady running VM needs no status write", () => {
  const running = vmi("a", { phase: "Running", conditions: [{ type: "Ready", status: "True" }] });
  const first = run({ vmi: running });
  expect(first.statusChanged).toBe(true);
  const second = run({ vm: vm(first.status), vmi: running, now: at(60) });
  expect(second.action.kind).toBe("none");
  expect(second.statusChanged).toBe(false);
});

test("running and runStrategy both set: no action, a Failure condition naming both", () => {
  const v = vm();
  v.spec.running = true;
  const r = run({ vm: v });
  expect(r.action.kind).toBe("none");
  expect(r.status.conditions?.find((c) => c.type === "Failure")?.message).toContain("mutually exclusive");
});

test("DataVolumes not ready: no VMI; Provisioning, DataVolumeError or WaitingForVolumeBinding with the DataVolumesReady condition saying why", () => {
  const cases = [
    [{ state: "provisioning", reason: "ImportInProgress", message: "DataVolume d: import in progress" }, "Provisioning"],
    [{ state: "error", reason: "ImportFailed", message: "DataVolume d: import failed: 404" }, "DataVolumeError"],
    [{ state: "binding", reason: "ClaimPending", message: "DataVolume d: PersistentVolumeClaim d is not bound yet" }, "WaitingForVolumeBinding"],
  ] as const;
  for (const [dataVolumes, printable] of cases) {
    const r = run({ dataVolumes });
    expect(r.action.kind).toBe("none");
    expect(r.event).toBeUndefined();
    expect(r.status.printableStatus).toBe(printable);
    expect(r.status.created).toBe(false);
    expect(r.statusChanged).toBe(true);
    expect(r.status.conditions?.find((c) => c.type === "DataVolumesReady")).toMatchObject({ status: "False", reason: dataVolumes.reason, message: dataVolumes.message });
  }
  // The import's percent moves on: the message follows, the transition time stays.
  const waited = run({ dataVolumes: cases[0][0] }).status;
  const later = run({ vm: vm(waited), dataVolumes: { ...cases[0][0], message: "DataVolume d: import in progress, 45.00%" } });
  expect(later.statusChanged).toBe(true);
  const before = waited.conditions?.find((c) => c.type === "DataVolumesReady");
  expect(later.status.conditions?.find((c) => c.type === "DataVolumesReady")).toEqual({ ...before!, message: "DataVolume d: import in progress, 45.00%" });
  // Ready: the VMI is created and the condition goes.
  const r = run({ vm: vm(waited), dataVolumes: { state: "ready" } });
  expect(r.action.kind).toBe("create");
  expect(r.status.printableStatus).toBe("Starting");
  expect(r.status.conditions?.some((c) => c.type === "DataVolumesReady")).toBe(false);
  // A VM that is not to run does not wait for them.
  const halted = { ...vm(), spec: { ...vm().spec, runStrategy: "Halted" as const } };
  expect(run({ vm: halted, dataVolumes: cases[1][0] }).status.printableStatus).toBe("Stopped");
});
