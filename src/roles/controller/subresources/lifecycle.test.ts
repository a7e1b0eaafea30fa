import { expect, test } from "bun:test";
import type { Vm, Vmi } from "../model.ts";
import { changeRequestPatch, checkRestartOptions, planRestart, planStart, planStop, restartOptions, startOptions, stopOptions } from "./lifecycle.ts";
import { StatusError } from "./status.ts";

const vm = (spec: Partial<Vm["spec"]>, status?: Vm["status"]): Vm => ({
  apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", metadata: { name: "vm1", namespace: "ns" },
  spec: { template: { spec: { domain: { devices: {} } } }, ...spec } as Vm["spec"],
  ...(status !== undefined ? { status } : {}),
});
const vmi = (phase: string, grace?: number): Vmi => ({
  apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", metadata: { name: "vm1", namespace: "ns", uid: "u-1" },
  spec: { domain: { devices: {} }, ...(grace !== undefined ? { terminationGracePeriodSeconds: grace } : {}) } as Vmi["spec"],
  status: { phase: phase as never },
});

function refused(f: () => unknown): { code: number; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof StatusError) return { code: e.body.code, message: e.body.message };
    throw e;
  }
  throw new Error("not refused");
}

test("start: Halted → runStrategy Always (guarded by a test); a running VM, Always and Once are 409 in KubeVirt's words", () => {
  expect(planStart(vm({ runStrategy: "Halted" }, { created: false }), null, {})).toEqual({
    vm: [{ op: "test", path: "/spec/runStrategy", value: "Halted" }, { op: "replace", path: "/spec/runStrategy", value: "Always" }],
  });
  expect(planStart(vm({ running: false }), null, {}).vm).toEqual([{ op: "test", path: "/spec/running", value: false }, { op: "replace", path: "/spec/running", value: true }]);
  expect(refused(() => planStart(vm({ runStrategy: "Halted" }), vmi("Running"), {}))).toEqual({ code: 409, message: 'Operation cannot be fulfilled on virtualmachine.kubevirt.io "vm1": VM is already running' });
  expect(refused(() => planStart(vm({ runStrategy: "Always" }), null, {})).message).toEndWith(": Always does not support manual start requests");
  expect(refused(() => planStart(vm({ runStrategy: "Once" }), null, {})).message).toEndWith(": Once does not support manual start requests");
  expect(refused(() => planStart(vm({ runStrategy: "RerunOnFailure" }), vmi("Failed"), {})).message).toEndWith(": RerunOnFailure does not support starting VM from failed state");
  expect(refused(() => planStart(vm({ runStrategy: "Halted" }), null, { paused: true })).code).toBe(400);
});

test("start: Manual adds a Start request (a Stop of the ended VMI first); the status is added when the VM has none", () => {
  expect(planStart(vm({ runStrategy: "Manual" }), null, {}).vmStatus).toEqual([{ op: "add", path: "/status", value: { stateChangeRequests: [{ action: "Start" }] } }]);
  expect(planStart(vm({ runStrategy: "Manual" }, { printableStatus: "Stopped", startFailure: { consecutiveFailCount: 1 } }), vmi("Succeeded"), {}).vmStatus).toEqual([
    { op: "test", path: "/status/stateChangeRequests", value: null },
    { op: "add", path: "/status/stateChangeRequests", value: [{ action: "Stop", uid: "u-1" }, { action: "Start" }] },
    { op: "remove", path: "/status/startFailure" },
  ]);
});

test("stop: Always → Halted; Manual → a Stop request for the VMI's uid; nothing running is 409; a grace period patches the VMI first", () => {
  expect(planStop(vm({ runStrategy: "Always" }), vmi("Running"), {})).toEqual({
    vm: [{ op: "test", path: "/spec/runStrategy", value: "Always" }, { op: "replace", path: "/spec/runStrategy", value: "Halted" }],
  });
  const graced = planStop(vm({ runStrategy: "Always" }), vmi("Running", 30), { gracePeriod: 0 });
  expect(graced.vmi).toEqual([{ op: "test", path: "/spec/terminationGracePeriodSeconds", value: 30 }, { op: "replace", path: "/spec/terminationGracePeriodSeconds", value: 0 }]);
  expect(planStop(vm({ runStrategy: "Manual" }, { printableStatus: "Running", stateChangeRequests: [] }), vmi("Running"), {}).vmStatus).toEqual([
    { op: "test", path: "/status/stateChangeRequests", value: [] },
    { op: "add", path: "/status/stateChangeRequests", value: [{ action: "Stop", uid: "u-1" }] },
  ]);
  expect(refused(() => planStop(vm({ runStrategy: "Manual" }), null, {}))).toEqual({ code: 409, message: 'Operation cannot be fulfilled on virtualmachine.kubevirt.io "vm1": VM is not running' });
  expect(refused(() => planStop(vm({ runStrategy: "Halted" }), null, {})).message).toEndWith(": VM is not running");
  expect(refused(() => planStop(vm({ runStrategy: "Halted" }), vmi("Running", 30), {})).message).toEndWith(": Halted only supports manual stop requests with a shorter graceperiod");
  expect(planStop(vm({ runStrategy: "Halted" }, { created: true }), vmi("Running", 30), { gracePeriod: 5 }).vmStatus).toBeDefined();
});

test("restart: a Stop of the VMI's uid then a Start; Halted, Once and no VMI are 409; only gracePeriodSeconds 0 (grace 1 on the VMI)", () => {
  expect(planRestart(vm({ runStrategy: "Always" }, { created: true }), vmi("Running"), {}).vmStatus).toEqual([
    { op: "test", path: "/status/stateChangeRequests", value: null },
    { op: "add", path: "/status/stateChangeRequests", value: [{ action: "Stop", uid: "u-1" }, { action: "Start" }] },
  ]);
  expect(refused(() => planRestart(vm({ runStrategy: "Halted" }), null, {})).message).toEndWith(": RunStategy Halted does not support manual restart requests");
  expect(refused(() => planRestart(vm({ runStrategy: "Always" }), null, {})).message).toEndWith(": VM is not running: Halted");
  const forced = planRestart(vm({ runStrategy: "Always" }, { created: true }), vmi("Running", 30), { gracePeriodSeconds: 0 });
  expect(forced.vmi?.[1]).toEqual({ op: "replace", path: "/spec/terminationGracePeriodSeconds", value: 1 });
  expect(forced.rollbackVmi).toEqual([{ op: "test", path: "/spec/terminationGracePeriodSeconds", value: 1 }, { op: "replace", path: "/spec/terminationGracePeriodSeconds", value: 30 }]);
  expect(refused(() => checkRestartOptions({ gracePeriodSeconds: 5 })).message).toBe("For force restart, only gracePeriod=0 is supported for now");
  expect(refused(() => checkRestartOptions({ gracePeriodSeconds: -1 })).message).toBe("gracePeriod has to be greater or equal to 0");
});

test("a second request while one is under way is refused; a Stop replaces a pending request", () => {
  const pending = vm({ runStrategy: "Manual" }, { created: true, stateChangeRequests: [{ action: "Start" }] });
  expect(refused(() => changeRequestPatch(pending, [{ action: "Start" }])).message).toContain("stop/start already underway");
  expect(changeRequestPatch(pending, [{ action: "Stop", uid: "u-1" }])[1]).toEqual({ op: "replace", path: "/status/stateChangeRequests", value: [{ action: "Stop", uid: "u-1" }] });
});

test("options: virtctl's bodies are read; wrong types are 400 naming the field", () => {
  expect(startOptions({})).toEqual({});
  expect(startOptions({ paused: true, dryRun: ["All"] })).toEqual({ paused: true, dryRun: ["All"] });
  expect(stopOptions({ gracePeriod: 0 })).toEqual({ gracePeriod: 0 });
  expect(restartOptions({ gracePeriodSeconds: 0, kind: "RestartOptions" })).toEqual({ gracePeriodSeconds: 0 });
  expect(refused(() => stopOptions({ gracePeriod: "soon" }))).toEqual({ code: 400, message: 'Can not unmarshal Request body to struct, error: field "gracePeriod" must be an integer' });
  expect(refused(() => stopOptions({ gracePeriod: -3 })).code).toBe(400);
  expect(refused(() => startOptions({ dryRun: ["Some"] })).message).toContain('field "dryRun"');
});
