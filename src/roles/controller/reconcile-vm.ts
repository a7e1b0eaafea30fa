/**
 * One pass of the VM controller over one VM, pure: from the VM, its VMI (or
 * none), what the expectations say and the clock, the action on the VMI, the
 * VM's new status, its finalizer, when to look again, and the Event to
 * record once the action succeeded. Time and randomness come in as inputs.
 *
 * The VM's status mirrors its VMI, so it is not written from a VMI state
 * about to change: while the VMI is on the way (being created, not in the
 * cache yet) or the VMI controller has a write to make on it (its pod, its
 * status), the VM's status waits — at most statusHoldMs — and the VMI's
 * change queues the VM again. A start is then one write of the VM's status
 * (created, Starting, the VMI's Ready condition), not three.
 */
import type { Template } from "../../api/instancetype/expand.ts";
import { nextStartFailure } from "./crash-loop.ts";
import { isDeleting, isFinal, type Vm, type Vmi, type VmStatus } from "./model.ts";
import { vmControllerFinalizer } from "./vmi-from-vm.ts";
import { decideVmi, effectiveRunStrategy, type VmiAction } from "./run-strategy.ts";
import { vmStatus, type SyncError } from "./vm-status.ts";
import type { DataVolumesState } from "./data-volumes/decide-data-volumes.ts";

export interface ReconcileVmInput {
  vm: Vm;
  vmi: Vmi | null;
  now: Date;
  /** Uniform in [0, 1): the backoff's jitter. */
  random: () => number;
  /** Creates or deletes sent earlier that the cache has not shown yet. */
  pending: { creates: boolean; deletes: boolean };
  /** The error of the previous action on this VM, shown as the Failure condition. */
  syncError?: SyncError;
  /** The VMI controller has a write to make on the VMI (its pod, status, labels or finalizers). */
  vmiUpdateDue?: boolean;
  /** How long a change of this VM's status has been waiting already. */
  statusHeldMs?: number;
  /** The template a new VMI is made from; null: none can be made now (DecideInput.template). Default: the VM's. */
  template?: Template | null;
  /** The VM's dataVolumeTemplates (data-volumes/): until they are ready, no VMI is created and the status says why. */
  dataVolumes?: DataVolumesState;
}

export interface KubeEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface ReconcileVmResult {
  action: VmiAction;
  status: VmStatus;
  /** False when the status equals what the VM has, or waits for the VMI (statusHeld): no write now. */
  statusChanged: boolean;
  /** The status differs but waits for the VMI to settle; requeueAfterMs says when to write it anyway. */
  statusHeld?: true;
  vmFinalizer?: "add" | "remove";
  requeueAfterMs?: number;
  /** Recorded on the VM after the action succeeded. */
  event?: KubeEvent;
  /** Take the VM controller's finalizer off the VMI: it ended and the VM's status has recorded it. */
  releaseVmi?: true;
}

/** How long a change of the VM's status may wait for its VMI to settle. */
export const statusHoldMs = 2000;

/**
 * Milliseconds the VM's status still waits for the VMI to settle; 0 when it
 * is written now. Only what the VM mirrors from its VMI waits: a change of
 * the VM's own state (start and stop requests, the crash-loop count), which
 * later decisions read back from the status, is written at once.
 */
function statusWaitMs(input: ReconcileVmInput, action: VmiAction, status: VmStatus): number {
  const { vm, vmi } = input;
  if (input.syncError !== undefined || isDeleting(vm)) return 0;
  const own = (s: VmStatus | undefined) => ({ requests: s?.stateChangeRequests ?? [], startFailure: s?.startFailure ?? null });
  if (!Bun.deepEquals(own(status), own(vm.status))) return 0;
  const settling = action.kind === "create" || (vmi === null ? input.pending.creates : input.vmiUpdateDue === true && !isDeleting(vmi));
  return settling ? Math.max(0, statusHoldMs - (input.statusHeldMs ?? 0)) : 0;
}

export function reconcileVm(input: ReconcileVmInput): ReconcileVmResult {
  const { vm, vmi, now } = input;
  let strategy;
  try {
    strategy = effectiveRunStrategy(vm.spec);
  } catch (e) {
    const syncError = { reason: "FailedCreate", message: (e as Error).message };
    const status = vmStatus({ vm, vmi, strategy: "Halted", startFailure: vm.status?.startFailure, startExpected: false, stopExpected: false, now, syncError });
    return { action: { kind: "none" }, status, statusChanged: !Bun.deepEquals(status, vm.status ?? {}) };
  }
  const startFailure = nextStartFailure(vm.status?.startFailure, strategy, vmi, now, input.random);
  const waiting = input.pending.creates || input.pending.deletes;
  const decided = waiting ? { action: { kind: "none" } as VmiAction } : decideVmi({ vm, vmi, startFailure, now, ...(input.template !== undefined ? { template: input.template } : {}) });
  // The VMI waits for the VM's DataVolumes (KubeVirt: handleDataVolumes before the VMI is created).
  const dataVolumesWait = decided.action.kind === "create" && input.dataVolumes !== undefined && input.dataVolumes.state !== "ready";
  const decision = dataVolumesWait ? { ...decided, action: { kind: "none" } as VmiAction } : decided;
  const { action } = decision;
  const seen: Vm = decision.addStartRequest
    ? { ...vm, status: { ...vm.status, stateChangeRequests: [...(vm.status?.stateChangeRequests ?? []), { action: "Start" }] } }
    : vm;
  const status = vmStatus({
    vm: seen,
    vmi,
    strategy,
    startFailure,
    startExpected: input.pending.creates || action.kind === "create",
    stopExpected: input.pending.deletes || action.kind === "delete",
    now,
    ...(input.syncError !== undefined ? { syncError: input.syncError } : {}),
    ...(dataVolumesWait ? { dataVolumes: input.dataVolumes! } : {}),
  });
  const differs = !Bun.deepEquals(status, vm.status ?? {});
  const wait = differs ? statusWaitMs(input, action, status) : 0;
  const out: ReconcileVmResult = { action, status, statusChanged: differs && wait === 0 };
  if ("vmFinalizer" in decision && decision.vmFinalizer !== undefined) out.vmFinalizer = decision.vmFinalizer;
  if ("requeueAfterMs" in decision && decision.requeueAfterMs !== undefined) out.requeueAfterMs = decision.requeueAfterMs;
  if (wait > 0) {
    out.statusHeld = true;
    out.requeueAfterMs = Math.min(out.requeueAfterMs ?? wait, wait);
  }
  if (vmi !== null && isFinal(vmi) && (vmi.metadata.finalizers ?? []).includes(vmControllerFinalizer)) out.releaseVmi = true;
  if (action.kind === "create") {
    out.event = { type: "Normal", reason: "SuccessfulCreate", message: `Started the virtual machine by creating the new virtual machine instance ${action.vmi.metadata.name}` };
  } else if (action.kind === "delete") {
    out.event = { type: "Normal", reason: "SuccessfulDelete", message: `Stopped the virtual machine by deleting the virtual machine instance ${action.uid ?? action.name}: ${action.reason}` };
  }
  return out;
}
