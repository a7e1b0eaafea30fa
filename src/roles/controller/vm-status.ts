/**
 * A VM's status as KubeVirt's VM controller writes it (updateStatus):
 * `created` (a VMI exists), `ready` (its Ready condition is True), the VMI's
 * conditions mirrored (Ready always; Failure from the last sync error),
 * `runStrategy` once a VMI was created, `startFailure` for the crash-loop
 * backoff, the first state-change request trimmed once it took effect, and
 * `printableStatus` — the STATUS column of `kubectl get vm` — where the first
 * matching state wins, in KubeVirt's order.
 */
import type { RunStrategy } from "../../api/v1/vm.ts";
import { restartsOnItsOwn } from "./crash-loop.ts";
import {
  findCondition, hasCondition, isDeleting, isFinal, isUnprocessed, updateCondition,
  type Condition, type PrintableStatus, type StartFailure, type Vm, type Vmi, type VmStatus,
} from "./model.ts";
import type { DataVolumesState } from "./data-volumes/decide-data-volumes.ts";
import { restartRequired, restartRequiredMessage } from "./restart-required.ts";

export interface SyncError {
  reason: string;
  message: string;
}

export interface StatusInput {
  vm: Vm;
  vmi: Vmi | null;
  strategy: RunStrategy;
  startFailure: StartFailure | undefined;
  /** A VMI create was sent and the cache has not shown it yet (or is being sent now). */
  startExpected: boolean;
  /** A VMI delete was sent and the cache has not shown it gone yet (or is being sent now). */
  stopExpected: boolean;
  now: Date;
  syncError?: SyncError;
  /** The VM's dataVolumeTemplates while they keep its VMI from being created (data-volumes/). */
  dataVolumes?: DataVolumesState;
}

/** Kubernetes' timestamp form: seconds, UTC, "Z". */
export const kubeTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, "Z");

const notMirrored = new Set(["Ready", "Failure", "RestartRequired"]);

export function vmStatus(input: StatusInput): VmStatus {
  const { vm, vmi } = input;
  const status: VmStatus = structuredClone(vm.status ?? {});
  status.created = vmi !== null;
  status.ready = vmi !== null && hasCondition(vmi.status?.conditions, "Ready", "True");
  if (status.runStrategy !== undefined || status.created) status.runStrategy = input.strategy;
  const requests = trimStateChangeRequests(status.stateChangeRequests, vmi);
  if (requests === undefined || requests.length === 0) delete status.stateChangeRequests;
  else status.stateChangeRequests = requests;
  if (input.startFailure === undefined) delete status.startFailure;
  else status.startFailure = input.startFailure;
  status.conditions = conditions(status.conditions ?? [], input);
  status.printableStatus = printableStatus(input);
  return status;
}

/** KubeVirt's isTrimFirstChangeRequestNeeded, applied to the first request. */
function trimStateChangeRequests(requests: VmStatus["stateChangeRequests"], vmi: Vmi | null): VmStatus["stateChangeRequests"] {
  if (requests === undefined || requests.length === 0) return requests;
  const first = requests[0]!;
  const done = first.action === "Stop"
    ? vmi === null || first.uid === undefined || first.uid !== vmi.metadata.uid
    : vmi !== null && !isDeleting(vmi) && !isFinal(vmi);
  return done ? requests.slice(1) : requests;
}

function conditions(current: Condition[], input: StatusInput): Condition[] {
  const { vmi } = input;
  const t = kubeTime(input.now);
  const vmiReady = findCondition(vmi?.status?.conditions, "Ready");
  let out = updateCondition(current, vmi === null
    ? { type: "Ready", status: "False", reason: "VMINotExists", message: "VMI does not exist", lastProbeTime: t, lastTransitionTime: t }
    : vmiReady === undefined
      ? { type: "Ready", status: "False", reason: "VMIConditionMissing", message: "VMI is missing the Ready condition", lastProbeTime: t, lastTransitionTime: t }
      : { ...vmiReady });
  out = input.syncError === undefined
    ? out.filter((c) => c.type !== "Failure")
    : updateCondition(out, { type: "Failure", status: "True", reason: input.syncError.reason, message: input.syncError.message, lastTransitionTime: t });
  // KubeVirt's DataVolumesReady (a VMI condition there): shown on the VM while its DataVolumes keep the VMI away.
  const dv = input.dataVolumes;
  out = vmi === null && dv !== undefined && dv.state !== "ready"
    ? updateCondition(out, { type: "DataVolumesReady", status: "False", reason: dv.reason, message: dv.message, lastProbeTime: null, lastTransitionTime: t }, { followMessage: true })
    : out.filter((c) => c.type !== "DataVolumesReady" || vmi !== null);
  // KubeVirt's RestartRequired: the running VMI was made from another template (restart-required.ts).
  out = vmi !== null && !isDeleting(vmi) && restartRequired(input.vm, vmi)
    ? updateCondition(out, { type: "RestartRequired", status: "True", message: restartRequiredMessage, lastProbeTime: null, lastTransitionTime: t })
    : out.filter((c) => c.type !== "RestartRequired");
  if (vmi === null) return out;
  const mirrored = (vmi.status?.conditions ?? []).filter((c) => !notMirrored.has(c.type));
  for (const c of mirrored) out = updateCondition(out, { ...c });
  const onVmi = new Set(mirrored.map((c) => c.type));
  return out.filter((c) => notMirrored.has(c.type) || onVmi.has(c.type));
}

function synchronizedFalse(vmi: Vmi | null, reason: string): boolean {
  return vmi !== null && hasCondition(vmi.status?.conditions, "Synchronized", "False", reason);
}

const order: [PrintableStatus, (i: StatusInput) => boolean][] = [
  ["Terminating", ({ vm }) => isDeleting(vm)],
  ["Stopping", ({ vmi, stopExpected }) => vmi !== null && !isFinal(vmi) && (isDeleting(vmi) || stopExpected)],
  ["Paused", ({ vmi }) => vmi?.status?.phase === "Running" && hasCondition(vmi.status.conditions, "Paused", "True")],
  ["Running", ({ vmi }) => vmi?.status?.phase === "Running" && !hasCondition(vmi.status.conditions, "Paused", "True")],
  ["ErrorPvcNotFound", ({ vmi }) => synchronizedFalse(vmi, "FailedPvcNotFound")],
  ["DataVolumeError", ({ dataVolumes }) => dataVolumes?.state === "error"],
  ["ErrorUnschedulable", ({ vmi }) => vmi !== null && hasCondition(vmi.status?.conditions, "PodScheduled", "False", "Unschedulable")],
  ["Provisioning", ({ dataVolumes }) => dataVolumes?.state === "provisioning"],
  ["WaitingForVolumeBinding", ({ dataVolumes }) => dataVolumes?.state === "binding"],
  ["ErrImagePull", ({ vmi }) => synchronizedFalse(vmi, "ErrImagePull")],
  ["ImagePullBackOff", ({ vmi }) => synchronizedFalse(vmi, "ImagePullBackOff")],
  ["Starting", ({ vmi, startExpected }) => vmi === null ? startExpected : isUnprocessed(vmi) || vmi.status?.phase === "Scheduling" || vmi.status?.phase === "Scheduled"],
  ["CrashLoopBackOff", ({ vmi, startExpected, startFailure, strategy }) =>
    (vmi === null || isFinal(vmi)) && !startExpected && (startFailure?.consecutiveFailCount ?? 0) > 0 && restartsOnItsOwn(strategy)],
  ["Stopped", ({ vmi, startExpected }) => vmi !== null ? isFinal(vmi) : !startExpected],
];

export function printableStatus(input: StatusInput): PrintableStatus {
  for (const [name, applies] of order) if (applies(input)) return name;
  return "Unknown";
}
