/**
 * Runs a start, stop or restart: reads the VM and its VMI, plans
 * (lifecycle.ts), sends the patches as the controller (dry-run when asked).
 * A patch whose test no longer holds (someone changed the VM meanwhile) is
 * KubeVirt's 409; other failures are 500.
 */
import { isNotFound, KubeError, type KubeRest } from "../../../kube/rest.ts";
import type { Vm, Vmi } from "../model.ts";
import {
  checkRestartOptions, type JsonPatch, type LifecyclePlan, planRestart, planStart, planStop, readOptions, restartOptions, startOptions, stopOptions,
} from "./lifecycle.ts";
import { conflict, internalError, notFound, vmResource } from "./status.ts";

export type LifecycleAction = "start" | "stop" | "restart";

const vmPath = (ns: string, name: string): string => `/apis/kubevirt.io/v1/namespaces/${encodeURIComponent(ns)}/virtualmachines/${encodeURIComponent(name)}`;
const vmiPath = (ns: string, name: string): string => `/apis/kubevirt.io/v1/namespaces/${encodeURIComponent(ns)}/virtualmachineinstances/${encodeURIComponent(name)}`;

/** A failed JSON Patch test: the API server's answer to a test that does not hold. */
function isTestFailure(e: unknown): boolean {
  return e instanceof KubeError && (e.code === 409 || e.code === 422 || /test operation|testing value|test failed/i.test(e.message));
}

type Rest = Pick<KubeRest, "get" | "patch">;

async function getVm(rest: Rest, ns: string, name: string): Promise<Vm> {
  try {
    return await rest.get<Vm>(vmPath(ns, name));
  } catch (e) {
    if (isNotFound(e)) throw notFound(vmResource, name);
    throw internalError(`unable to retrieve vm [${name}]: ${(e as Error).message}`);
  }
}

async function getVmi(rest: Rest, ns: string, name: string): Promise<Vmi | null> {
  try {
    return await rest.get<Vmi>(vmiPath(ns, name));
  } catch (e) {
    if (isNotFound(e)) return null;
    throw internalError((e as Error).message);
  }
}

async function send(rest: Rest, path: string, patch: JsonPatch, name: string, dryRun: boolean): Promise<void> {
  try {
    await rest.patch(path, "json", patch, dryRun ? "?dryRun=All" : "");
  } catch (e) {
    if (isTestFailure(e)) throw conflict(vmResource, name, `jsonpatch test operation does not apply: ${(e as Error).message}`);
    throw internalError((e as Error).message);
  }
}

async function execute(rest: Rest, ns: string, name: string, plan: LifecyclePlan, dryRun: boolean): Promise<void> {
  if (plan.vmi !== undefined) await send(rest, vmiPath(ns, name), plan.vmi, name, dryRun);
  try {
    if (plan.vm !== undefined) await send(rest, vmPath(ns, name), plan.vm, name, dryRun);
    if (plan.vmStatus !== undefined) await send(rest, `${vmPath(ns, name)}/status`, plan.vmStatus, name, dryRun);
  } catch (e) {
    if (plan.rollbackVmi !== undefined) await send(rest, vmiPath(ns, name), plan.rollbackVmi, name, dryRun).catch(() => undefined);
    throw e;
  }
}

/** Handles PUT .../virtualmachines/NAME/{start,stop,restart}: resolves on 202, throws a StatusError. */
export async function runLifecycle(rest: Rest, action: LifecycleAction, ns: string, name: string, req: Request): Promise<void> {
  const body = await readOptions(req);
  if (action === "start") {
    const opts = startOptions(body);
    const vm = await getVm(rest, ns, name);
    const vmi = await getVmi(rest, ns, name);
    return execute(rest, ns, name, planStart(vm, vmi, opts), opts.dryRun !== undefined);
  }
  if (action === "stop") {
    const opts = stopOptions(body);
    const vm = await getVm(rest, ns, name);
    const vmi = await getVmi(rest, ns, name);
    return execute(rest, ns, name, planStop(vm, vmi, opts), opts.dryRun !== undefined);
  }
  const opts = restartOptions(body);
  checkRestartOptions(opts);
  const vm = await getVm(rest, ns, name);
  const vmi = await getVmi(rest, ns, name);
  return execute(rest, ns, name, planRestart(vm, vmi, opts), opts.dryRun !== undefined);
}
