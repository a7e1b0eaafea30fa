import { describe, expect, test } from "bun:test";
import type { Condition, Vmi, VmiStatus } from "./model.ts";
import { vmControllerFinalizer } from "./vmi-from-vm.ts";
import { nodeNameLabel, reconcileVmi, vmiFinalizer, type PodView, type ReconcileVmiInput } from "./reconcile-vmi.ts";

const now = new Date("2026-01-01T00:00:00Z");
const T = "2026-01-01T00:00:00Z";
const vmi = (status?: VmiStatus, extra: Partial<Vmi["metadata"]> = {}): Vmi => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name: "vm1", namespace: "ns", uid: "vmi-uid", finalizers: [vmiFinalizer], ...extra },
  spec: { domain: { devices: {}, memory: { guest: "64M" } } },
  ...(status !== undefined ? { status } : {}),
});
const pod = (over: { phase?: NonNullable<PodView["status"]>["phase"]; nodeName?: string; compute?: "waiting" | "running" | "terminated"; waitingReason?: string; deleting?: boolean; conditions?: Condition[] }): PodView => ({
  metadata: { name: "virt-launcher-vm1-abcde", uid: "pod-uid", ...(over.deleting ? { deletionTimestamp: T } : {}) },
  spec: over.nodeName !== undefined ? { nodeName: over.nodeName } : {},
  status: {
    phase: over.phase ?? "Pending",
    ...(over.conditions !== undefined ? { conditions: over.conditions } : {}),
    ...(over.compute !== undefined
      ? { containerStatuses: [{ name: "compute", state: over.compute === "running" ? { running: {} } : over.compute === "terminated" ? { terminated: { exitCode: 1 } } : { waiting: { reason: over.waitingReason ?? "ContainerCreating" } } }] }
      : {}),
  },
});
const run = (over: Partial<ReconcileVmiInput>) =>
  reconcileVmi({ vmi: vmi(), pods: [], now, pendingCreate: false, podOptions: { image: "launcher:1", emulation: true }, ...over });

describe("phases from the pod", () => {
  test("a new VMI: its pod is created and the VMI goes Scheduling in the same write, Ready as with the pod there", () => {
    const r = run({});
    expect(r.podAction.kind).toBe("create");
    expect(r.status.phase).toBe("Scheduling");
    expect(r.status.phaseTransitionTimestamps).toEqual([{ phase: "Scheduling", phaseTransitionTimestamp: T }]);
    expect(r.status.conditions).toEqual([{ type: "Ready", status: "False", reason: "GuestNotRunning", message: "Guest VM is not reported as running", lastProbeTime: T, lastTransitionTime: T }]);
    // The pod showing up in the cache is no change to write.
    const seen = run({ vmi: vmi(r.status), pods: [pod({})], now: new Date(now.getTime() + 5000) });
    expect(seen.statusChanged).toBe(false);
  });

  test("a pod create still pending: no second pod, the VMI stays where it is", () => {
    expect(run({ pendingCreate: true }).podAction.kind).toBe("none");
    expect(run({ pendingCreate: true }).status.phase).toBe("Pending");
    const r = run({ vmi: vmi({ phase: "Scheduling" }), pendingCreate: true });
    expect(r.podAction.kind).toBe("none");
    expect(r.status.phase).toBe("Scheduling");
  });

  test("the pod is pending: still Scheduling; unschedulable is mirrored as PodScheduled False", () => {
    const unsched = { type: "PodScheduled", status: "False" as const, reason: "Unschedulable", message: "0/1 nodes are available" };
    const r = run({ vmi: vmi({ phase: "Scheduling" }), pods: [pod({ conditions: [unsched] })] });
    expect(r.podAction.kind).toBe("none");
    expect(r.status.phase).toBe("Scheduling");
    expect(r.status.conditions?.find((c) => c.type === "PodScheduled")).toEqual(unsched);
  });

  test("an image pull failure is Synchronized False with its reason", () => {
    const r = run({ vmi: vmi({ phase: "Scheduling" }), pods: [pod({ nodeName: "n1", compute: "waiting", waitingReason: "ImagePullBackOff" })] });
    expect(r.status.conditions?.find((c) => c.type === "Synchronized")).toMatchObject({ status: "False", reason: "ImagePullBackOff" });
  });

  test("on a node with the compute container running: Scheduled, nodeName set, the VMI labelled with its node", () => {
    const r = run({ vmi: vmi({ phase: "Scheduling" }, { labels: { app: "x" } }), pods: [pod({ phase: "Running", nodeName: "node1", compute: "running" })] });
    expect(r.status.phase).toBe("Scheduled");
    expect(r.status.nodeName).toBe("node1");
    expect(r.labels).toEqual({ app: "x", [nodeNameLabel]: "node1" });
    expect(r.statusChanged).toBe(true);
  });

  test("the pod fails while scheduling, or disappears under a scheduled or running VMI: Failed", () => {
    expect(run({ vmi: vmi({ phase: "Scheduling" }), pods: [pod({ phase: "Failed", nodeName: "n1", compute: "terminated" })] }).status.phase).toBe("Failed");
    expect(run({ vmi: vmi({ phase: "Scheduling" }) }).status.phase).toBe("Failed");
    const gone = run({ vmi: vmi({ phase: "Running" }) });
    expect(gone.status.phase).toBe("Failed");
    expect(gone.status.reason).toBe("PodNotExists");
    expect(gone.podAction.kind).toBe("none");
  });

  test("Running: Ready mirrors the pod's Ready condition; nothing to write when nothing changed", () => {
    const podReady = { type: "Ready", status: "True" as const, lastTransitionTime: "2025-12-31T00:00:00Z" };
    const p = pod({ phase: "Running", nodeName: "n1", compute: "running", conditions: [podReady] });
    const r = run({ vmi: vmi({ phase: "Running", nodeName: "n1" }), pods: [p] });
    expect(r.status.conditions).toEqual([podReady]);
    const again = run({ vmi: vmi(r.status), pods: [p] });
    expect(again.statusChanged).toBe(false);
  });
});

describe("deletion and the finalizer", () => {
  test("a deleted VMI's live pods are deleted", () => {
    const r = run({ vmi: vmi({ phase: "Running" }, { deletionTimestamp: T }), pods: [pod({ phase: "Running", nodeName: "n1", compute: "running" })] });
    expect(r.podAction).toEqual({ kind: "delete", names: ["virt-launcher-vm1-abcde"] });
    expect(r.event?.reason).toBe("SuccessfulDelete");
    expect(run({ vmi: vmi({ phase: "Running" }, { deletionTimestamp: T }), pods: [pod({ deleting: true })] }).podAction.kind).toBe("none");
  });

  test("a deleted VMI that never got a pod fails and creates none", () => {
    const r = run({ vmi: vmi(undefined, { deletionTimestamp: T }) });
    expect(r.podAction.kind).toBe("none");
    expect(r.status.phase).toBe("Failed");
  });

  test("the finalizer comes off a final VMI once its pods are gone, not before", () => {
    expect(run({ vmi: vmi({ phase: "Succeeded" }), pods: [pod({ phase: "Succeeded" })] }).removeFinalizers).toEqual([]);
    expect(run({ vmi: vmi({ phase: "Succeeded" }) }).removeFinalizers).toEqual([vmiFinalizer]);
    const orphan = vmi({ phase: "Failed" }, { finalizers: [vmiFinalizer, vmControllerFinalizer] });
    expect(run({ vmi: orphan }).removeFinalizers).toEqual([vmiFinalizer]);
    expect(run({ vmi: orphan, ownerVmExists: false }).removeFinalizers).toEqual([vmiFinalizer, vmControllerFinalizer]);
  });
});
