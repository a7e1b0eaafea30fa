/**
 * VM -> what to do with its VMI, per run strategy, as KubeVirt's VM
 * controller decides it (syncRunStrategy):
 * - Always: a VMI always runs; a finished one (Succeeded or Failed) is
 *   deleted and a new one created, after the crash-loop backoff.
 * - RerunOnFailure: a Failed VMI is deleted and started again (a start
 *   request is queued); a Succeeded one is deleted and stays stopped.
 * - Manual: only start/stop requests (`virtctl start/stop`) act.
 * - Halted: no VMI; an existing one is deleted.
 * - Once: one VMI is created; when it ends it is not restarted.
 * The deprecated `running: true` is Always, `running: false` (or neither) Halted.
 */
import type { Template } from "../../api/instancetype/expand.ts";
import type { RunStrategy } from "../../api/v1/vm.ts";
import { backoffLeftMs } from "./crash-loop.ts";
import { isDeleting, isFinal, type StartFailure, type Vm, type Vmi } from "./model.ts";
import { vmControllerFinalizer, vmiFromVm } from "./vmi-from-vm.ts";

/** KubeVirt's VirtualMachine.RunStrategy(). */
export function effectiveRunStrategy(spec: { runStrategy?: RunStrategy | undefined; running?: boolean | undefined }): RunStrategy {
  if (spec.running !== undefined && spec.runStrategy !== undefined) {
    throw new Error(`Cannot choose the run strategy: spec.running "${spec.running}" and spec.runStrategy "${spec.runStrategy}" are mutually exclusive`);
  }
  if (spec.running !== undefined) return spec.running ? "Always" : "Halted";
  return spec.runStrategy ?? "Halted";
}

export type VmiAction =
  | { kind: "none" }
  | { kind: "create"; vmi: Vmi }
  | { kind: "delete"; name: string; uid?: string; reason: string };

export interface VmiDecision {
  action: VmiAction;
  /** Look at this VM again after this long (the crash-loop backoff). */
  requeueAfterMs?: number;
  /** Queue a start request on the VM's status (RerunOnFailure after a failure). */
  addStartRequest?: true;
  /** The VM controller's finalizer on the VM. */
  vmFinalizer?: "add" | "remove";
}

export interface DecideInput {
  vm: Vm;
  vmi: Vmi | null;
  /** The start failures counted so far, including the current VMI's. */
  startFailure: StartFailure | undefined;
  now: Date;
  /**
   * The template a new VMI is made from (the VM's, expanded with its
   * instancetype and preference); null when none can be made now (no VMI is
   * created; the caller shows why). Default: the VM's template.
   */
  template?: Template | null;
}

const none = (): VmiAction => ({ kind: "none" });

function hasStartRequest(vm: Vm): boolean {
  return vm.status?.stateChangeRequests?.[0]?.action === "Start";
}

function hasStopRequestFor(vm: Vm, vmi: Vmi): boolean {
  const r = vm.status?.stateChangeRequests?.[0];
  return r?.action === "Stop" && r.uid !== undefined && r.uid === vmi.metadata.uid;
}

function stop(vmi: Vmi, reason: string): VmiAction {
  if (isDeleting(vmi)) return none();
  return { kind: "delete", name: vmi.metadata.name ?? "", ...(vmi.metadata.uid !== undefined ? { uid: vmi.metadata.uid } : {}), reason };
}

function create(input: DecideInput): VmiAction {
  if (input.template === null) return none();
  return { kind: "create", vmi: vmiFromVm(input.vm, input.template) };
}

function start(input: DecideInput): VmiDecision {
  const wait = backoffLeftMs(input.startFailure, input.now);
  if (wait > 0) return { action: none(), requeueAfterMs: wait };
  return { action: create(input) };
}

export function decideVmi(input: DecideInput): VmiDecision {
  const { vm, vmi } = input;
  const finalizers = vm.metadata.finalizers ?? [];
  if (isDeleting(vm)) {
    if (vmi === null) return { action: none(), ...(finalizers.includes(vmControllerFinalizer) ? { vmFinalizer: "remove" as const } : {}) };
    return { action: stop(vmi, "the VirtualMachine is being deleted") };
  }
  const finalizer = finalizers.includes(vmControllerFinalizer) ? {} : { vmFinalizer: "add" as const };
  return { ...byStrategy(input, effectiveRunStrategy(vm.spec)), ...finalizer };
}

function byStrategy(input: DecideInput, strategy: RunStrategy): VmiDecision {
  const { vm, vmi } = input;
  switch (strategy) {
    case "Always":
      if (vmi !== null) {
        if (hasStopRequestFor(vm, vmi)) return { action: stop(vmi, "a restart was requested") };
        if (isFinal(vmi)) return { action: stop(vmi, `the VMI ended (${vmi.status?.phase}) and runStrategy is Always`) };
        return { action: none() };
      }
      return start(input);
    case "RerunOnFailure":
      if (vmi !== null) {
        const failed = vmi.status?.phase === "Failed";
        if (isDeleting(vmi)) return { action: none() };
        if (hasStopRequestFor(vm, vmi) || failed || vmi.status?.phase === "Succeeded") {
          const reason = failed ? "the VMI failed and runStrategy is RerunOnFailure" : `the VMI ended (${vmi.status?.phase ?? "stop requested"})`;
          return { action: stop(vmi, reason), ...(failed ? { addStartRequest: true as const } : {}) };
        }
        return { action: none() };
      }
      // Started on a start request, or when the strategy was just switched to RerunOnFailure.
      if (!hasStartRequest(vm) && vm.status?.runStrategy === strategy) return { action: none() };
      return start(input);
    case "Manual":
      if (vmi !== null) return { action: hasStopRequestFor(vm, vmi) ? stop(vmi, "a stop was requested") : none() };
      return hasStartRequest(vm) ? { action: create(input) } : { action: none() };
    case "Halted":
      return { action: vmi === null ? none() : stop(vmi, "runStrategy is Halted") };
    case "Once":
      return vmi === null ? start(input) : { action: none() };
  }
}
