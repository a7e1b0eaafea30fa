/**
 * The controller's view of the objects it reconciles: the kubevirt.io/v1
 * types plus the metadata and status fields the API server and the
 * controller own (deletionTimestamp, finalizers, startFailure, …). The
 * schemas keep these as unknown keys (loose objects), so they are typed here.
 */
import type { RunStrategy, VirtualMachine } from "../../api/v1/vm.ts";
import type { VirtualMachineInstance } from "../../api/v1/vmi.ts";

export interface Meta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string | null;
  ownerReferences?: OwnerReference[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string | null;
}

/** KubeVirt's VirtualMachineStartFailure: consecutive VMIs that failed before reaching Running. */
export interface StartFailure {
  consecutiveFailCount: number;
  lastFailedVMIUID?: string;
  retryAfterTimestamp?: string;
}

/** KubeVirt's VirtualMachineStateChangeRequest (what `virtctl start/stop` writes). */
export interface StateChangeRequest {
  action: "Start" | "Stop";
  uid?: string;
  data?: Record<string, string>;
}

export type PrintableStatus = NonNullable<NonNullable<VirtualMachine["status"]>["printableStatus"]>;

export interface VmStatus {
  printableStatus?: PrintableStatus;
  ready?: boolean;
  created?: boolean;
  conditions?: Condition[];
  runStrategy?: RunStrategy;
  startFailure?: StartFailure;
  stateChangeRequests?: StateChangeRequest[];
  [key: string]: unknown;
}

export type Vm = Omit<VirtualMachine, "metadata" | "status"> & { metadata: Meta; status?: VmStatus };

export type VmiPhase = NonNullable<NonNullable<VirtualMachineInstance["status"]>["phase"]>;

export interface VmiStatus {
  phase?: VmiPhase;
  conditions?: Condition[];
  nodeName?: string;
  reason?: string;
  phaseTransitionTimestamps?: { phase: string; phaseTransitionTimestamp?: string }[];
  [key: string]: unknown;
}

export type Vmi = Omit<VirtualMachineInstance, "metadata" | "status"> & { metadata: Meta; status?: VmiStatus };

/** Succeeded or Failed: the VMI will not run again. */
export function isFinal(vmi: Vmi): boolean {
  return vmi.status?.phase === "Succeeded" || vmi.status?.phase === "Failed";
}

/** No phase yet, or Pending: the controller has not made its pod. */
export function isUnprocessed(vmi: Vmi): boolean {
  return vmi.status?.phase === undefined || vmi.status.phase === "Pending";
}

export function isDeleting(obj: { metadata: Meta }): boolean {
  return typeof obj.metadata.deletionTimestamp === "string";
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function hasCondition(conditions: readonly Condition[] | undefined, type: string, status: Condition["status"], reason?: string): boolean {
  const c = findCondition(conditions, type);
  return c !== undefined && c.status === status && (reason === undefined || c.reason === reason);
}

/**
 * KubeVirt's UpdateCondition: a condition of that type is replaced only when
 * its status or reason changed (so its transition time stays); else added.
 */
export function updateCondition(conditions: readonly Condition[], next: Condition, opts: { followMessage?: boolean } = {}): Condition[] {
  const i = conditions.findIndex((c) => c.type === next.type);
  if (i < 0) return [...conditions, next];
  const cur = conditions[i]!;
  if (cur.status === next.status && cur.reason === next.reason) {
    // A message that moves on (an import's percent) replaces the old one; the transition time stays.
    if (opts.followMessage !== true || cur.message === next.message) return [...conditions];
    return conditions.map((c, j) => (j === i ? { ...cur, message: next.message } : c));
  }
  return conditions.map((c, j) => (j === i ? next : c));
}

/** Namespace/name, the work queue's key for an object. */
export function keyOf(obj: { metadata: Meta }): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`;
}
