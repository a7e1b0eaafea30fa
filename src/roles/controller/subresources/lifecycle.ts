/**
 * start, stop and restart of a VirtualMachine, as KubeVirt's virt-api does
 * them (pkg/virt-api/rest/lifecycle.go): from the VM, its VMI and the
 * request's options, the JSON Patches to send — the VM's runStrategy
 * (Halted ⇄ Always) or a state change request on its status (Manual,
 * RerunOnFailure, and every restart) that the VM controller acts on
 * (run-strategy.ts) — or KubeVirt's 409/400 answer. Pure; lifecycle-app.ts
 * reads the objects and sends the patches.
 */
import { effectiveRunStrategy } from "../run-strategy.ts";
import { isFinal, type StateChangeRequest, type Vm, type Vmi } from "../model.ts";
import { badRequest, conflict, internalError, vmResource } from "./status.ts";

export type JsonPatch = { op: "test" | "add" | "replace" | "remove"; path: string; value?: unknown }[];

export interface StartOptions {
  paused?: boolean;
  dryRun?: string[];
}

export interface StopOptions {
  gracePeriod?: number;
  dryRun?: string[];
}

export interface RestartOptions {
  gracePeriodSeconds?: number;
  dryRun?: string[];
}

/** What to send, in order: the VMI's grace period first (stop, force restart), then the VM or its status. */
export interface LifecyclePlan {
  vmi?: JsonPatch;
  vm?: JsonPatch;
  vmStatus?: JsonPatch;
  /** The VMI's grace period to put back when the VM's patch fails (a force restart). */
  rollbackVmi?: JsonPatch;
}

/** The VM controller's view of a VMI that still counts as running (KubeVirt: not final, phase set and not Unknown). */
function vmiRunning(vmi: Vmi | null): boolean {
  return vmi !== null && !isFinal(vmi) && vmi.status?.phase !== undefined && (vmi.status.phase as string) !== "" && (vmi.status.phase as string) !== "Unknown";
}

function strategyOf(vm: Vm) {
  try {
    return effectiveRunStrategy(vm.spec);
  } catch (e) {
    throw internalError((e as Error).message);
  }
}

/** KubeVirt's getChangeRequestJson: add the requests, guarded by a test of the current ones. */
export function changeRequestPatch(vm: Vm, changes: StateChangeRequest[]): JsonPatch {
  const status = vm.status ?? {};
  const ops: JsonPatch = [];
  const current = status.stateChangeRequests ?? [];
  if (Object.keys(status).length === 0) {
    ops.push({ op: "add", path: "/status", value: { stateChangeRequests: changes } });
    return ops;
  }
  ops.push({ op: "test", path: "/status/stateChangeRequests", value: status.stateChangeRequests ?? null });
  if (current.length === 0) ops.push({ op: "add", path: "/status/stateChangeRequests", value: changes });
  else if (changes.length === 1 && changes[0]!.action === "Stop") ops.push({ op: "replace", path: "/status/stateChangeRequests", value: changes });
  else throw internalError("unable to complete request: stop/start already underway");
  if (status.startFailure !== undefined) ops.push({ op: "remove", path: "/status/startFailure" });
  return ops;
}

/** KubeVirt's getRunningPatch: runStrategy Always/Halted, or the deprecated running true/false. */
export function runningPatch(vm: Vm, running: boolean): JsonPatch {
  if (vm.spec.runStrategy !== undefined) {
    return [{ op: "test", path: "/spec/runStrategy", value: vm.spec.runStrategy }, { op: "replace", path: "/spec/runStrategy", value: running ? "Always" : "Halted" }];
  }
  return [{ op: "test", path: "/spec/running", value: vm.spec.running ?? null }, { op: vm.spec.running === undefined ? "add" : "replace", path: "/spec/running", value: running }];
}

/** The VMI's terminationGracePeriodSeconds set to `seconds`, guarded by a test of the current value. */
export function gracePeriodPatch(vmi: Vmi, seconds: number): JsonPatch {
  const current = vmi.spec.terminationGracePeriodSeconds;
  return [
    { op: "test", path: "/spec/terminationGracePeriodSeconds", value: current ?? null },
    { op: current === undefined ? "add" : "replace", path: "/spec/terminationGracePeriodSeconds", value: seconds },
  ];
}

export function planStart(vm: Vm, vmi: Vmi | null, opts: StartOptions): LifecyclePlan {
  const name = vm.metadata.name ?? "";
  if (vmiRunning(vmi)) throw conflict(vmResource, name, "VM is already running");
  if (opts.paused === true) throw badRequest("starting a VM paused is not supported by bunvirt");
  const strategy = strategyOf(vm);
  switch (strategy) {
    case "Halted":
      return { vm: runningPatch(vm, true) };
    case "RerunOnFailure":
    case "Manual": {
      if (strategy === "RerunOnFailure" && vmi?.status?.phase === "Failed") throw conflict(vmResource, name, "RerunOnFailure does not support starting VM from failed state");
      const start: StateChangeRequest = { action: "Start" };
      if (vmi !== null && (strategy === "Manual" ? isFinal(vmi) : vmi.status?.phase === "Succeeded")) {
        return { vmStatus: changeRequestPatch(vm, [{ action: "Stop", ...(vmi.metadata.uid !== undefined ? { uid: vmi.metadata.uid } : {}) }, start]) };
      }
      return { vmStatus: changeRequestPatch(vm, [start]) };
    }
    case "Always":
    case "Once":
      throw conflict(vmResource, name, `${strategy} does not support manual start requests`);
  }
}

export function planStop(vm: Vm, vmi: Vmi | null, opts: StopOptions): LifecyclePlan {
  const name = vm.metadata.name ?? "";
  const strategy = strategyOf(vm);
  const live = vmi !== null && !isFinal(vmi);
  const plan: LifecyclePlan = {};
  const oldGrace = vmi?.spec.terminationGracePeriodSeconds ?? 0;
  if (live && opts.gracePeriod !== undefined) plan.vmi = gracePeriodPatch(vmi, opts.gracePeriod);
  const stopRequest = (): JsonPatch => changeRequestPatch(vm, [{ action: "Stop", ...(vmi?.metadata.uid !== undefined ? { uid: vmi.metadata.uid } : {}) }]);
  switch (strategy) {
    case "Halted":
      if (!live) throw conflict(vmResource, name, "VM is not running");
      if (opts.gracePeriod === undefined || (vmi.spec.terminationGracePeriodSeconds !== undefined && opts.gracePeriod >= oldGrace)) {
        // KubeVirt has patched the grace period by now; here nothing is sent.
        throw conflict(vmResource, name, "Halted only supports manual stop requests with a shorter graceperiod");
      }
      return { ...plan, vmStatus: stopRequest() };
    case "RerunOnFailure":
    case "Manual":
      if (!live) throw conflict(vmResource, name, "VM is not running");
      return { ...plan, vmStatus: stopRequest() };
    case "Always":
    case "Once":
      return { ...plan, vm: runningPatch(vm, false) };
  }
}

export function planRestart(vm: Vm, vmi: Vmi | null, opts: RestartOptions): LifecyclePlan {
  const name = vm.metadata.name ?? "";
  const strategy = strategyOf(vm);
  if (strategy === "Halted" || strategy === "Once") throw conflict(vmResource, name, `RunStategy ${strategy} does not support manual restart requests`);
  if (vmi === null) throw conflict(vmResource, name, "VM is not running: Halted");
  const plan: LifecyclePlan = {};
  if (opts.gracePeriodSeconds === 0) {
    // A force restart: the shortest safe grace period before the requests.
    plan.vmi = gracePeriodPatch(vmi, 1);
    plan.rollbackVmi = gracePeriodPatch({ ...vmi, spec: { ...vmi.spec, terminationGracePeriodSeconds: 1 } }, vmi.spec.terminationGracePeriodSeconds ?? 0);
  }
  plan.vmStatus = changeRequestPatch(vm, [{ action: "Stop", ...(vmi.metadata.uid !== undefined ? { uid: vmi.metadata.uid } : {}) }, { action: "Start" }]);
  return plan;
}

/** Checks the restart options before anything is read (KubeVirt's order). */
export function checkRestartOptions(opts: RestartOptions): void {
  if (opts.gracePeriodSeconds === undefined) return;
  if (opts.gracePeriodSeconds > 0) throw badRequest("For force restart, only gracePeriod=0 is supported for now");
  if (opts.gracePeriodSeconds < 0) throw badRequest("gracePeriod has to be greater or equal to 0");
}

const maxBody = 64 * 1024;

function dryRunField(obj: Record<string, unknown>): string[] | undefined {
  const v = obj.dryRun;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > 8 || !v.every((s) => s === "All")) throw badRequest(`Can not unmarshal Request body to struct, error: field "dryRun" must be a list whose only value is "All"`);
  return v as string[];
}

function intField(obj: Record<string, unknown>, field: string): number | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw badRequest(`Can not unmarshal Request body to struct, error: field "${field}" must be an integer`);
  return v;
}

/** The options object of a request body (empty body: {}); a body that is not a JSON object is a 400. */
export async function readOptions(req: Request): Promise<Record<string, unknown>> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBody) throw badRequest(`Can not unmarshal Request body to struct, error: the body is larger than ${maxBody} bytes`);
  const text = await req.text();
  if (text.length > maxBody) throw badRequest(`Can not unmarshal Request body to struct, error: the body is larger than ${maxBody} bytes`);
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw badRequest(`Can not unmarshal Request body to struct, error: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest("Can not unmarshal Request body to struct, error: the body is not a JSON object");
  return value as Record<string, unknown>;
}

export function startOptions(obj: Record<string, unknown>): StartOptions {
  const paused = obj.paused;
  if (paused !== undefined && paused !== null && typeof paused !== "boolean") throw badRequest(`Can not unmarshal Request body to struct, error: field "paused" must be a boolean`);
  const dryRun = dryRunField(obj);
  return { ...(paused === true ? { paused } : {}), ...(dryRun !== undefined ? { dryRun } : {}) };
}

export function stopOptions(obj: Record<string, unknown>): StopOptions {
  const gracePeriod = intField(obj, "gracePeriod");
  if (gracePeriod !== undefined && gracePeriod < 0) throw badRequest("gracePeriod has to be greater or equal to 0");
  const dryRun = dryRunField(obj);
  return { ...(gracePeriod !== undefined ? { gracePeriod } : {}), ...(dryRun !== undefined ? { dryRun } : {}) };
}

export function restartOptions(obj: Record<string, unknown>): RestartOptions {
  const gracePeriodSeconds = intField(obj, "gracePeriodSeconds");
  const dryRun = dryRunField(obj);
  return { ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}), ...(dryRun !== undefined ? { dryRun } : {}) };
}
