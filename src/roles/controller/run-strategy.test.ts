import { describe, expect, test } from "bun:test";
import type { Vm, Vmi, VmiPhase } from "./model.ts";
import { decideVmi, effectiveRunStrategy, type DecideInput } from "./run-strategy.ts";
import { vmControllerFinalizer } from "./vmi-from-vm.ts";

const now = new Date("2026-01-01T00:00:00Z");
const vm = (spec: Partial<Vm["spec"]>, extra: Partial<Vm> = {}): Vm => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name: "vm1", namespace: "ns", uid: "vm-uid", finalizers: [vmControllerFinalizer] },
  spec: { template: { spec: { domain: { devices: {} } } }, ...spec },
  ...extra,
});
const vmi = (phase: VmiPhase | undefined, deleting = false): Vmi => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name: "vm1", namespace: "ns", uid: "vmi-uid", ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
  spec: { domain: { devices: {} } },
  ...(phase !== undefined ? { status: { phase } } : {}),
});
const decide = (v: Vm, i: Vmi | null, extra: Partial<DecideInput> = {}) => decideVmi({ vm: v, vmi: i, startFailure: undefined, now, ...extra });
const kind = (v: Vm, i: Vmi | null, extra: Partial<DecideInput> = {}): string => decide(v, i, extra).action.kind;

describe("effectiveRunStrategy (KubeVirt's RunStrategy())", () => {
  test("running: true is Always, false is Halted, neither is Halted", () => {
    expect(effectiveRunStrategy({ running: true })).toBe("Always");
    expect(effectiveRunStrategy({ running: false })).toBe("Halted");
    expect(effectiveRunStrategy({})).toBe("Halted");
    expect(effectiveRunStrategy({ runStrategy: "Manual" })).toBe("Manual");
  });
  test("both is an error naming both fields", () => {
    expect(() => effectiveRunStrategy({ running: true, runStrategy: "Always" })).toThrow('spec.running "true" and spec.runStrategy "Always" are mutually exclusive');
  });
});

describe("decideVmi per run strategy", () => {
  const table: [string, Vm, Vmi | null, string][] = [
    ["Always, no VMI: create", vm({ runStrategy: "Always" }), null, "create"],
    ["running: true, no VMI: create", vm({ running: true }), null, "create"],
    ["Always, running VMI: nothing", vm({ runStrategy: "Always" }), vmi("Running"), "none"],
    ["Always, failed VMI: delete (a new one follows)", vm({ runStrategy: "Always" }), vmi("Failed"), "delete"],
    ["Always, succeeded VMI: delete", vm({ runStrategy: "Always" }), vmi("Succeeded"), "delete"],
    ["Always, failed VMI already being deleted: nothing", vm({ runStrategy: "Always" }), vmi("Failed", true), "none"],
    ["Halted, running VMI: delete", vm({ runStrategy: "Halted" }), vmi("Running"), "delete"],
    ["running: false, running VMI: delete", vm({ running: false }), vmi("Running"), "delete"],
    ["Halted, no VMI: nothing", vm({ runStrategy: "Halted" }), null, "none"],
    ["Manual, no VMI, no request: nothing", vm({ runStrategy: "Manual" }), null, "none"],
    ["Manual, failed VMI: nothing (stays failed)", vm({ runStrategy: "Manual" }), vmi("Failed"), "none"],
    ["Once, no VMI: create", vm({ runStrategy: "Once" }), null, "create"],
    ["Once, succeeded VMI: nothing", vm({ runStrategy: "Once" }), vmi("Succeeded"), "none"],
    ["Once, failed VMI: nothing", vm({ runStrategy: "Once" }), vmi("Failed"), "none"],
    ["RerunOnFailure, never started: create", vm({ runStrategy: "RerunOnFailure" }), null, "create"],
    ["RerunOnFailure, succeeded VMI: delete", vm({ runStrategy: "RerunOnFailure" }), vmi("Succeeded"), "delete"],
    ["RerunOnFailure, running VMI: nothing", vm({ runStrategy: "RerunOnFailure" }), vmi("Running"), "none"],
  ];
  for (const [name, v, i, want] of table) test(name, () => expect(kind(v, i)).toBe(want));

  test("no template to make a VMI from (an instancetype not found): nothing is created, a running VMI is still stopped", () => {
    expect(kind(vm({ runStrategy: "Always" }), null, { template: null })).toBe("none");
    expect(kind(vm({ runStrategy: "Manual" }, { status: { stateChangeRequests: [{ action: "Start" }] } }), null, { template: null })).toBe("none");
    expect(kind(vm({ runStrategy: "Halted" }), vmi("Running"), { template: null })).toBe("delete");
    const expanded = structuredClone(vm({ runStrategy: "Always" }).spec.template);
    expanded.spec.domain.memory = { guest: "3Gi" };
    const made = decide(vm({ runStrategy: "Always" }), null, { template: expanded }).action;
    expect(made.kind === "create" && made.vmi.spec.domain.memory).toEqual({ guest: "3Gi" });
  });

  test("RerunOnFailure: a failed VMI is deleted with a start request; a succeeded one without", () => {
    expect(decide(vm({ runStrategy: "RerunOnFailure" }), vmi("Failed")).addStartRequest).toBe(true);
    expect(decide(vm({ runStrategy: "RerunOnFailure" }), vmi("Succeeded")).addStartRequest).toBeUndefined();
  });

  test("RerunOnFailure without a VMI starts only on a start request once it has run", () => {
    const ran = vm({ runStrategy: "RerunOnFailure" }, { status: { runStrategy: "RerunOnFailure" } });
    expect(kind(ran, null)).toBe("none");
    ran.status!.stateChangeRequests = [{ action: "Start" }];
    expect(kind(ran, null)).toBe("create");
  });

  test("Manual acts on start and stop requests; a stop request must name the VMI's uid", () => {
    expect(kind(vm({ runStrategy: "Manual" }, { status: { stateChangeRequests: [{ action: "Start" }] } }), null)).toBe("create");
    expect(kind(vm({ runStrategy: "Manual" }, { status: { stateChangeRequests: [{ action: "Stop", uid: "vmi-uid" }] } }), vmi("Running"))).toBe("delete");
    expect(kind(vm({ runStrategy: "Manual" }, { status: { stateChangeRequests: [{ action: "Stop", uid: "other" }] } }), vmi("Running"))).toBe("none");
  });

  test("the crash-loop backoff delays a start and says when to look again", () => {
    const d = decide(vm({ runStrategy: "Always" }), null, { startFailure: { consecutiveFailCount: 2, retryAfterTimestamp: "2026-01-01T00:00:40Z" } });
    expect(d.action.kind).toBe("none");
    expect(d.requeueAfterMs).toBe(40_000);
    expect(kind(vm({ runStrategy: "Always" }), null, { startFailure: { consecutiveFailCount: 2, retryAfterTimestamp: "2025-12-31T23:59:00Z" } })).toBe("create");
  });

  test("a created VMI is the VM's template, owned by the VM", () => {
    const d = decide(vm({ runStrategy: "Always" }), null);
    if (d.action.kind !== "create") throw new Error("expected create");
    expect(d.action.vmi.metadata.ownerReferences?.[0]).toMatchObject({ kind: "VirtualMachine", uid: "vm-uid", controller: true });
  });

  test("the finalizer is added to a live VM, and removed once a deleted VM's VMI is gone", () => {
    const v = vm({ runStrategy: "Halted" });
    v.metadata.finalizers = [];
    expect(decide(v, null).vmFinalizer).toBe("add");
    const deleting = vm({ runStrategy: "Always" });
    deleting.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
    expect(decide(deleting, vmi("Running"))).toEqual({ action: { kind: "delete", name: "vm1", uid: "vmi-uid", reason: "the VirtualMachine is being deleted" } });
    expect(decide(deleting, null)).toEqual({ action: { kind: "none" }, vmFinalizer: "remove" });
  });
});
