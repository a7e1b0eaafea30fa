/**
 * Whether a node's handler is dead, and what follows, pure (KubeVirt's
 * virt-controller node controller): the handler writes the
 * `kubevirt.io/heartbeat` annotation on its Node (handler/node-heartbeat.ts);
 * once that is older than the timeout (KubeVirt: 5 min), or the Node is gone,
 * the node is unresponsive: its `kubevirt.io/schedulable` label goes false
 * (when it is still true) and each VMI on it that is Scheduled or Running but
 * has no live launcher pod any more is Failed with reason NodeUnresponsive —
 * nobody else would say so, the handler that reports a VMI's end being the
 * one that is dead. A node that never had a heartbeat (no handler ever ran
 * there) or whose heartbeat cannot be read is left alone, as KubeVirt does.
 */
import { heartbeatAnnotation } from "../handler/node-heartbeat.ts";
import { schedulableNodeLabel } from "./launcher-pod.ts";
import type { Meta, Vmi, VmiStatus } from "./model.ts";
import { nodeNameLabel, type PodView } from "./reconcile-vmi.ts";
import { kubeTime } from "./vm-status.ts";

export const nodeUnresponsiveReason = "NodeUnresponsive";
/** KubeVirt's heartbeat timeout. */
export const defaultNodeHeartbeatTimeoutSeconds = 300;

export interface NodeView {
  metadata: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** A launcher pod as the check reads it: where it runs and which VMI controls it. */
export type NodePodView = PodView & { metadata: PodView["metadata"] & { namespace?: string; ownerReferences?: Meta["ownerReferences"] } };

/** True when the node is gone or its heartbeat is older than `timeoutMs`. */
export function heartbeatStale(node: NodeView | null, now: Date, timeoutMs: number): boolean {
  if (node === null) return true;
  const beat = node.metadata.annotations?.[heartbeatAnnotation];
  if (beat === undefined) return false;
  const at = Date.parse(beat);
  if (Number.isNaN(at)) return false;
  return at < now.getTime() - timeoutMs;
}

/** KubeVirt's alive pod: not Succeeded or Failed, and not every container terminated. */
export function podAlive(pod: NodePodView): boolean {
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return false;
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.length === 0 || statuses.some((s) => s.state?.terminated === undefined);
}

function vmiNode(vmi: Vmi): string | undefined {
  return vmi.metadata.labels?.[nodeNameLabel] ?? vmi.status?.nodeName;
}

export interface NodeCheckInput {
  nodeName: string;
  /** The Node, or null when it is gone. */
  node: NodeView | null;
  /** The VMIs in the cache (those of other nodes are skipped). */
  vmis: readonly Vmi[];
  /** The launcher pods in the cache. */
  pods: readonly NodePodView[];
  now: Date;
  timeoutMs: number;
}

export interface NodeCheck {
  unresponsive: boolean;
  /** Set the node's schedulable label to false. */
  markUnschedulable: boolean;
  /** The VMIs to make Failed (NodeUnresponsive). */
  failVmis: Vmi[];
}

export function checkNode(input: NodeCheckInput): NodeCheck {
  const { nodeName, node } = input;
  if (!heartbeatStale(node, input.now, input.timeoutMs)) return { unresponsive: false, markUnschedulable: false, failVmis: [] };
  const alive = new Set<string>();
  for (const pod of input.pods) {
    if (pod.spec?.nodeName !== nodeName || !podAlive(pod)) continue;
    const ref = (pod.metadata.ownerReferences ?? []).find((r) => r.controller === true && r.kind === "VirtualMachineInstance");
    if (ref !== undefined) alive.add(`${pod.metadata.namespace ?? ""}/${ref.uid}`);
  }
  const failVmis = input.vmis.filter((vmi) =>
    vmiNode(vmi) === nodeName
    && (vmi.status?.phase === "Scheduled" || vmi.status?.phase === "Running")
    && !alive.has(`${vmi.metadata.namespace ?? ""}/${vmi.metadata.uid ?? ""}`));
  return {
    unresponsive: true,
    markUnschedulable: node?.metadata.labels?.[schedulableNodeLabel] === "true",
    failVmis,
  };
}

/** The status fields a VMI on an unresponsive node gets (a merge patch). */
export function nodeUnresponsiveStatus(vmi: Vmi, now: Date): VmiStatus {
  return {
    phase: "Failed",
    reason: nodeUnresponsiveReason,
    phaseTransitionTimestamps: [...(vmi.status?.phaseTransitionTimestamps ?? []), { phase: "Failed", phaseTransitionTimestamp: kubeTime(now) }],
  };
}

/** Every node worth a check: those in the cache and those the active VMIs name (a deleted node included). */
export function nodesToCheck(nodes: readonly NodeView[], vmis: readonly Vmi[]): string[] {
  const names = new Set<string>();
  for (const n of nodes) if (n.metadata.name !== undefined) names.add(n.metadata.name);
  for (const vmi of vmis) {
    const name = vmiNode(vmi);
    if (name !== undefined && (vmi.status?.phase === "Scheduled" || vmi.status?.phase === "Running")) names.add(name);
  }
  return [...names].sort();
}

/** How often the nodes are checked again: KubeVirt's minute, sooner for a short timeout. */
export function recheckMs(timeoutMs: number): number {
  return Math.min(60_000, Math.max(1000, Math.floor(timeoutMs / 4)));
}
