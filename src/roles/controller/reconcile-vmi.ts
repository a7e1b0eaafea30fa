/**
 * One pass of the VMI controller over one VMI, pure (KubeVirt's VMI
 * controller, lifecycle.go): whether to create its launcher pod or delete
 * its pods, and the VMI's phase as the pod progresses — Pending (no pod yet)
 * -> Scheduling (the pod exists) -> Scheduled (the pod is on a node and its
 * compute container runs; nodeName set and the VMI labelled with the node) ->
 * Running is the handler's to set. A pod that goes down before the VMI ran,
 * or disappears under it, makes the VMI Failed. The Ready condition mirrors
 * the pod. Once the VMI is final and its pods are gone, the foreground
 * finalizer comes off.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { computeContainerName, launcherPod, type LauncherPodOptions } from "./launcher-pod.ts";
import {
  findCondition, isDeleting, isFinal, isUnprocessed, updateCondition,
  type Condition, type Vmi, type VmiPhase, type VmiStatus,
} from "./model.ts";
import type { KubeEvent } from "./reconcile-vm.ts";
import { kubeTime } from "./vm-status.ts";
import { vmControllerFinalizer } from "./vmi-from-vm.ts";

/** KubeVirt's VMI finalizer: the VMI stays until its launcher pods are gone. */
export const vmiFinalizer = "kubevirt.io/foregroundDeleteVirtualMachine";
/** The VMI label naming its node (the handler selects its VMIs by it). */
export const nodeNameLabel = "kubevirt.io/nodeName";

/** The parts of a Pod this controller reads (as the API server sends them: timestamps are strings). */
export interface PodView {
  metadata: { name?: string; uid?: string; deletionTimestamp?: string | null };
  spec?: { nodeName?: string };
  status?: {
    phase?: "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
    conditions?: Condition[];
    containerStatuses?: { name: string; state?: { waiting?: { reason?: string; message?: string }; running?: object; terminated?: { exitCode?: number; reason?: string } } }[];
  };
}

export type PodAction =
  | { kind: "none" }
  | { kind: "create"; pod: V1Pod }
  | { kind: "delete"; names: string[] };

export interface ReconcileVmiInput {
  vmi: Vmi;
  /** The pods this VMI controls (ownerReference uid = the VMI's uid). */
  pods: PodView[];
  now: Date;
  /** A pod create sent earlier that the cache has not shown yet. */
  pendingCreate: boolean;
  podOptions: LauncherPodOptions;
  /** False when the VM that owns the VMI is gone (its finalizer then comes off here). Default true. */
  ownerVmExists?: boolean;
}

export interface ReconcileVmiResult {
  podAction: PodAction;
  /**
   * The VMI's status assuming podAction succeeds (a created pod makes the VMI
   * Scheduling at once, saving a write); when the action fails, do not write it.
   */
  status: VmiStatus;
  statusChanged: boolean;
  /** The VMI's labels when they must change (the node label). */
  labels?: Record<string, string>;
  /** Finalizers to take off the VMI. */
  removeFinalizers: string[];
  event?: KubeEvent;
}

const podDown = (p: PodView): boolean => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
const compute = (p: PodView) => p.status?.containerStatuses?.find((c) => c.name === computeContainerName);
const podDownOrGoingDown = (p: PodView): boolean => podDown(p) || compute(p)?.state?.terminated !== undefined || isDeleting(p as { metadata: { deletionTimestamp?: string | null } });
/** KubeVirt's IsPodReady: not going down and the compute container has started (its readiness is the VMI's business). */
const podUp = (p: PodView): boolean => !podDownOrGoingDown(p) && compute(p)?.state?.running !== undefined && p.spec?.nodeName !== undefined;

/** The pod that stands for the VMI: a live one if there is one. */
export function currentPod(pods: readonly PodView[]): PodView | null {
  return pods.find((p) => !podDownOrGoingDown(p)) ?? pods[0] ?? null;
}

/** The image errors KubeVirt reports as a Synchronized=False reason. */
function imageError(p: PodView): { reason: string; message: string } | null {
  const waiting = compute(p)?.state?.waiting;
  if (waiting?.reason === "ErrImagePull" || waiting?.reason === "ImagePullBackOff") return { reason: waiting.reason, message: waiting.message ?? waiting.reason };
  return null;
}

function readyCondition(vmi: Vmi, phase: VmiPhase | undefined, pod: PodView | null, t: string): Condition {
  const no = (reason: string, message: string): Condition => ({ type: "Ready", status: "False", reason, message, lastProbeTime: t, lastTransitionTime: t });
  if (pod === null) return no("PodNotExists", "virt-launcher pod has not yet been scheduled");
  if (podDownOrGoingDown(pod)) return no("PodTerminating", "virt-launcher pod is terminating");
  if (phase !== "Running") return no("GuestNotRunning", "Guest VM is not reported as running");
  const ready = findCondition(pod.status?.conditions, "Ready");
  if (ready === undefined) return no("PodConditionMissing", "virt-launcher pod is missing the Ready condition");
  return { ...ready, type: "Ready" };
}

export function reconcileVmi(input: ReconcileVmiInput): ReconcileVmiResult {
  const { vmi, pods, now } = input;
  const t = kubeTime(now);
  const pod = currentPod(pods);
  const before = vmi.status ?? {};
  const status: VmiStatus = structuredClone(before);
  let conditions = status.conditions ?? [];
  let phase = before.phase;
  let labels: Record<string, string> | undefined;
  let podAction: PodAction = { kind: "none" };
  let event: KubeEvent | undefined;
  const removeFinalizers: string[] = [];

  // The pods: made for an unprocessed VMI, deleted with a deleted VMI.
  if (isDeleting(vmi)) {
    const live = pods.filter((p) => !isDeleting(p as { metadata: { deletionTimestamp?: string | null } }) && p.metadata.name !== undefined);
    if (live.length > 0) {
      podAction = { kind: "delete", names: live.map((p) => p.metadata.name!) };
      event = { type: "Normal", reason: "SuccessfulDelete", message: `Deleted virtual machine pod ${podAction.names.join(", ")}` };
    }
  } else if (pod === null && isUnprocessed(vmi) && !input.pendingCreate) {
    podAction = { kind: "create", pod: launcherPod(vmi, input.podOptions) };
  }
  const podWillExist = pod !== null || podAction.kind === "create";

  if (phase === undefined || phase === "Pending") {
    phase = podWillExist ? "Scheduling" : isDeleting(vmi) ? "Failed" : "Pending";
  } else if (phase === "Scheduling") {
    if (pod === null) {
      // Its create may still be on the way to the cache.
      if (!input.pendingCreate) phase = "Failed";
    } else {
      const scheduled = findCondition(pod.status?.conditions, "PodScheduled");
      conditions = scheduled?.status === "False"
        ? updateCondition(conditions, { ...scheduled })
        : conditions.filter((c) => c.type !== "PodScheduled");
      const imageErr = imageError(pod);
      conditions = imageErr !== null
        ? updateCondition(conditions, { type: "Synchronized", status: "False", reason: imageErr.reason, message: imageErr.message, lastTransitionTime: t })
        : conditions.filter((c) => !(c.type === "Synchronized" && (c.reason === "ErrImagePull" || c.reason === "ImagePullBackOff")));
      if (podUp(pod) && !isDeleting(vmi)) {
        phase = "Scheduled";
        status.nodeName = pod.spec!.nodeName!;
        labels = { ...(vmi.metadata.labels ?? {}), [nodeNameLabel]: pod.spec!.nodeName! };
      } else if (podDownOrGoingDown(pod)) {
        phase = "Failed";
      }
    }
  } else if (phase === "Scheduled" || phase === "Running") {
    if (pod === null) phase = "Failed";
  } else if (isFinal(vmi) && pods.length === 0) {
    const has = vmi.metadata.finalizers ?? [];
    if (has.includes(vmiFinalizer)) removeFinalizers.push(vmiFinalizer);
    if (input.ownerVmExists === false && has.includes(vmControllerFinalizer)) removeFinalizers.push(vmControllerFinalizer);
  }

  if (phase !== before.phase) {
    status.phase = phase!;
    status.phaseTransitionTimestamps = [...(before.phaseTransitionTimestamps ?? []), { phase: phase!, phaseTransitionTimestamp: t }];
    if (phase === "Failed" && status.reason === undefined) {
      status.reason = pod === null ? "PodNotExists" : "PodFailed";
    }
  }
  // A pod created in this pass counts as there already, so its arrival in the cache changes nothing to write.
  const readyPod = pod ?? (podAction.kind === "create" ? (podAction.pod as PodView) : null);
  status.conditions = updateCondition(conditions, readyCondition(vmi, phase, readyPod, t));
  const out: ReconcileVmiResult = { podAction, status, statusChanged: !Bun.deepEquals(status, before), removeFinalizers };
  if (labels !== undefined && !Bun.deepEquals(labels, vmi.metadata.labels ?? {})) out.labels = labels;
  if (event !== undefined) out.event = event;
  return out;
}

/** The Event recorded on the VMI once its pod was created (its name comes from the API server). */
export function podCreatedEvent(podName: string): KubeEvent {
  return { type: "Normal", reason: "SuccessfulCreate", message: `Created virtual machine pod ${podName}` };
}
