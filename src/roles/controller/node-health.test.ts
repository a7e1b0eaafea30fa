import { describe, expect, test } from "bun:test";
import type { Vmi, VmiPhase } from "./model.ts";
import { checkNode, heartbeatStale, nodesToCheck, nodeUnresponsiveStatus, podAlive, recheckMs, type NodePodView, type NodeView } from "./node-health.ts";

const now = new Date("2026-01-01T00:10:00Z");
const minute = 60_000;
const node = (beat: string | undefined, schedulable = "true"): NodeView => ({
  metadata: { name: "n1", labels: { "kubevirt.io/schedulable": schedulable }, ...(beat !== undefined ? { annotations: { "kubevirt.io/heartbeat": beat } } : {}) },
});
const stale = node("2026-01-01T00:04:00Z");
const fresh = node("2026-01-01T00:09:30Z");
const vmi = (name: string, phase: VmiPhase, nodeName = "n1"): Vmi => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name, namespace: "ns", uid: `uid-${name}`, labels: { "kubevirt.io/nodeName": nodeName } },
  spec: { domain: { devices: {} } },
  status: { phase, nodeName, phaseTransitionTimestamps: [{ phase: "Running", phaseTransitionTimestamp: "2026-01-01T00:00:00Z" }] },
});
const pod = (vmiName: string, over: { phase?: "Running" | "Failed" | "Succeeded"; compute?: "running" | "terminated"; nodeName?: string; namespace?: string } = {}): NodePodView => ({
  metadata: {
    name: `virt-launcher-${vmiName}`, namespace: over.namespace ?? "ns",
    ownerReferences: [{ apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", name: vmiName, uid: `uid-${vmiName}`, controller: true }],
  },
  spec: { nodeName: over.nodeName ?? "n1" },
  status: {
    phase: over.phase ?? "Running",
    containerStatuses: [{ name: "compute", state: (over.compute ?? "running") === "running" ? { running: {} } : { terminated: { exitCode: 137 } } }],
  },
});
const check = (n: NodeView | null, vmis: Vmi[], pods: NodePodView[]) => checkNode({ nodeName: "n1", node: n, vmis, pods, now, timeoutMs: 5 * minute });

describe("the heartbeat", () => {
  test("older than the timeout is stale; within it, missing or unreadable is not; a deleted node is", () => {
    expect(heartbeatStale(stale, now, 5 * minute)).toBe(true);
    expect(heartbeatStale(fresh, now, 5 * minute)).toBe(false);
    expect(heartbeatStale(node("2026-01-01T00:05:00Z"), now, 5 * minute)).toBe(false);
    expect(heartbeatStale(node(undefined), now, 5 * minute)).toBe(false);
    expect(heartbeatStale(node("yesterday-ish"), now, 5 * minute)).toBe(false);
    expect(heartbeatStale(null, now, 5 * minute)).toBe(true);
  });
});

describe("an unresponsive node", () => {
  test("a fresh heartbeat: nothing happens, even to a VMI whose pod is gone", () => {
    expect(check(fresh, [vmi("a", "Running")], [])).toEqual({ unresponsive: false, markUnschedulable: false, failVmis: [] });
  });

  test("stale: the node goes unschedulable; the VMIs without a live pod fail, those with one stay", () => {
    const vmis = [vmi("gone", "Running"), vmi("dead", "Scheduled"), vmi("live", "Running")];
    const pods = [pod("dead", { phase: "Failed", compute: "terminated" }), pod("live")];
    const r = check(stale, vmis, pods);
    expect(r.unresponsive).toBe(true);
    expect(r.markUnschedulable).toBe(true);
    expect(r.failVmis.map((v) => v.metadata.name)).toEqual(["gone", "dead"]);
  });

  test("a node already unschedulable is not patched again", () => {
    expect(check(node("2026-01-01T00:00:00Z", "false"), [], []).markUnschedulable).toBe(false);
  });

  test("VMIs not Scheduled or Running, or on another node, are left alone", () => {
    const vmis = [vmi("p", "Scheduling"), vmi("f", "Failed"), vmi("s", "Succeeded"), vmi("other", "Running", "n2")];
    expect(check(stale, vmis, []).failVmis).toEqual([]);
  });

  test("a pod counts for its own VMI only: same uid and namespace, on this node", () => {
    const vmis = [vmi("a", "Running"), vmi("b", "Running"), vmi("c", "Running")];
    const pods = [pod("a", { namespace: "other" }), pod("b", { nodeName: "n2" }), pod("c")];
    expect(check(stale, vmis, pods).failVmis.map((v) => v.metadata.name)).toEqual(["a", "b"]);
  });

  test("a deleted node: its VMIs without a live pod fail, no label to change", () => {
    const r = check(null, [vmi("a", "Running")], []);
    expect(r.markUnschedulable).toBe(false);
    expect(r.failVmis.map((v) => v.metadata.name)).toEqual(["a"]);
  });
});

test("a pod is alive unless it ended or every container terminated", () => {
  expect(podAlive(pod("a"))).toBe(true);
  expect(podAlive(pod("a", { phase: "Failed" }))).toBe(false);
  expect(podAlive(pod("a", { phase: "Succeeded" }))).toBe(false);
  expect(podAlive(pod("a", { compute: "terminated" }))).toBe(false);
  expect(podAlive({ metadata: {}, status: { phase: "Running" } })).toBe(true);
});

test("a failed VMI's status: Failed, NodeUnresponsive, the transition appended", () => {
  expect(nodeUnresponsiveStatus(vmi("a", "Running"), now)).toEqual({
    phase: "Failed",
    reason: "NodeUnresponsive",
    phaseTransitionTimestamps: [
      { phase: "Running", phaseTransitionTimestamp: "2026-01-01T00:00:00Z" },
      { phase: "Failed", phaseTransitionTimestamp: "2026-01-01T00:10:00Z" },
    ],
  });
});

test("the nodes to check: cached ones and those the active VMIs name", () => {
  expect(nodesToCheck([node(undefined)], [vmi("a", "Running", "n3"), vmi("b", "Failed", "n4")])).toEqual(["n1", "n3"]);
});

test("the recheck: KubeVirt's minute for its timeout, a quarter of a short one, at least a second", () => {
  expect(recheckMs(5 * minute)).toBe(minute);
  expect(recheckMs(20_000)).toBe(5000);
  expect(recheckMs(2000)).toBe(1000);
});
