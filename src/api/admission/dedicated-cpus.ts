/**
 * Dedicated CPUs, KubeVirt's rules: isolateEmulatorThread only with
 * dedicatedCpuPlacement; with it, CPU requests and limits are whole CPUs,
 * equal when both are given and equal to the vCPUs when a topology is
 * given too; at most two threads per core; memory requests equal to limits
 * when both are given (the pod must be of guaranteed QoS).
 */
import { joinPath, type Problem } from "../problem.ts";
import { parseQuantity } from "../quantity.ts";
import type { VmiSpec } from "../v1/vmi.ts";

export function checkDedicatedCpus(spec: VmiSpec, at: string): Problem[] {
  const c = spec.domain.cpu ?? {};
  const here = joinPath(at, "domain");
  const out: Problem[] = [];
  if (c.isolateEmulatorThread === true && c.dedicatedCpuPlacement !== true) {
    out.push({ path: joinPath(here, "cpu.isolateEmulatorThread"), rule: "needs domain.cpu.dedicatedCpuPlacement: true" });
  }
  if (c.dedicatedCpuPlacement !== true) return out;
  const r = spec.domain.resources ?? {};
  const req = r.requests?.cpu;
  const lim = r.limits?.cpu;
  for (const [name, q] of [["requests", req], ["limits", lim]] as const) {
    const n = q === undefined ? null : parseQuantity(q);
    if (n !== null && !Number.isInteger(n)) out.push({ path: joinPath(here, `resources.${name}.cpu`), rule: `"${q}" must be a whole number of CPUs with dedicatedCpuPlacement` });
  }
  const reqN = req === undefined ? null : parseQuantity(req);
  const limN = lim === undefined ? null : parseQuantity(lim);
  if (reqN !== null && limN !== null && reqN !== limN) {
    out.push({ path: joinPath(here, "resources.requests.cpu"), rule: `"${req}" must equal the limit "${lim}" with dedicatedCpuPlacement` });
  }
  const topology = c.sockets !== undefined || c.cores !== undefined || c.threads !== undefined;
  const vcpus = (c.sockets ?? 1) * (c.cores ?? 1) * (c.threads ?? 1);
  const given = limN ?? reqN;
  if (topology && given !== null && given !== vcpus) {
    out.push({ path: joinPath(here, "cpu.dedicatedCpuPlacement"), rule: `the CPU ${limN !== null ? "limit" : "request"} (${given}) differs from sockets × cores × threads (${vcpus}); give one of them` });
  }
  if ((c.threads ?? 1) > 2) out.push({ path: joinPath(here, "cpu.threads"), rule: `${c.threads} threads per core; at most 2 with dedicatedCpuPlacement` });
  const memReq = r.requests?.memory;
  const memLim = r.limits?.memory;
  if (memReq !== undefined && memLim !== undefined && parseQuantity(memReq) !== parseQuantity(memLim)) {
    out.push({ path: joinPath(here, "resources.requests.memory"), rule: `"${memReq}" must equal the limit "${memLim}" with dedicatedCpuPlacement (the pod's QoS must be guaranteed)` });
  }
  return out;
}
