/**
 * One pass of the VM controller over one VM, pure: from the VM, its VMI (or
 * none), what the expectations say and the clock, the action on the VMI, the
 * VM's new status, its finalizer, when to look again, and the Event to
 * record once the action succeeded. Time and randomness come in as inputs.
 *
 * A start is one write of the VM's status, not three: while its new VMI is
 * on the way (being created, not in the cache yet, or not yet processed by
 * the VMI controller, for at most vmiFirstStatusWaitMs) the VM's status
 * waits for the VMI's first status and is then written once (created,
 * Starting, the VMI's Ready condition).
 */
import { nextStartFailure } from "./crash-loop.ts";
import { isDeleting, isFinal, isUnprocessed, type Vm, type Vmi, type VmStatus } from "./model.ts";
import { vmControllerFinalizer } from "./vmi-from-vm.ts";
import { decideVmi, effectiveRunStrategy, type VmiAction } from "./run-strategy.ts";
import { vmStatus, type SyncError } from "./vm-status.ts";

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
}

export interface KubeEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface ReconcileVmResult {
  action: VmiAction;
  status: VmStatus;
  /** False when the status equals what the VM has: no write needed. */
  statusChanged: boolean;
  vmFinalizer?: "add" | "remove";
  requeueAfterMs?: number;
  /** Recorded on the VM after the action succeeded. */
  event?: KubeEvent;
  /** Take the VM controller's finalizer off the VMI: it ended and the VM's status has recorded it. */
  releaseVmi?: true;
}

/** How long a VM's status waits for its new VMI's first status before it is written anyway. */
export const vmiFirstStatusWaitMs = 2000;

/** Milliseconds the VM's status still waits for the VMI's first status; 0 when it is written now. */
function statusWaitMs(input: ReconcileVmInput, action: VmiAction): number {
  const { vm, vmi, now } = input;
  if (input.syncError !== undefined || isDeleting(vm)) return 0;
  // The VMI's arrival in the cache queues the VM again.
  if (action.kind === "create" || (vmi === null && input.pending.creates)) return vmiFirstStatusWaitMs;
  if (vmi === null || !isUnprocessed(vmi) || isDeleting(vmi)) return 0;
  const created = Date.parse(String(vmi.metadata.creationTimestamp ?? ""));
  if (Number.isNaN(created)) return 0;
  return Math.max(0, created + vmiFirstStatusWaitMs - now.getTime());
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
  const decision = waiting ? { action: { kind: "none" } as VmiAction } : decideVmi({ vm, vmi, startFailure, now });
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
  });
  const wait = statusWaitMs(input, action);
  const out: ReconcileVmResult = { action, status, statusChanged: wait === 0 && !Bun.deepEquals(status, vm.status ?? {}) };
  if ("vmFinalizer" in decision && decision.vmFinalizer !== undefined) out.vmFinalizer = decision.vmFinalizer;
  if ("requeueAfterMs" in decision && decision.requeueAfterMs !== undefined) out.requeueAfterMs = decision.requeueAfterMs;
  if (wait > 0 && action.kind !== "create" && !input.pending.creates) out.requeueAfterMs = Math.min(out.requeueAfterMs ?? wait, wait);
  if (vmi !== null && isFinal(vmi) && (vmi.metadata.finalizers ?? []).includes(vmControllerFinalizer)) out.releaseVmi = true;
  if (action.kind === "create") {
    out.event = { type: "Normal", reason: "SuccessfulCreate", message: `Started the virtual machine by creating the new virtual machine instance ${action.vmi.metadata.name}` };
  } else if (action.kind === "delete") {
    out.event = { type: "Normal", reason: "SuccessfulDelete", message: `Stopped the virtual machine by deleting the virtual machine instance ${action.uid ?? action.name}: ${action.reason}` };
  }
  return out;
}
