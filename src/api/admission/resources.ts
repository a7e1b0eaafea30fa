import { parseQuantity, type Quantity } from "../quantity.ts";
import { joinPath, type Problem } from "../problem.ts";
import type { VmiSpec } from "../v1/vmi.ts";

const oneM = 1e6;

const num = (q: Quantity | undefined): number | null => (q === undefined ? null : parseQuantity(q));

/** Memory is given somehow and within its bounds; cpu requests do not exceed limits. */
export function checkResources(spec: VmiSpec, at: string): Problem[] {
  const out: Problem[] = [];
  const d = spec.domain;
  const here = joinPath(at, "domain");
  const req = d.resources?.requests;
  const lim = d.resources?.limits;
  const guest = num(d.memory?.guest);
  const reqMem = num(req?.memory);
  const limMem = num(lim?.memory);
  if (guest === null && reqMem === null && limMem === null) {
    out.push({ path: joinPath(here, "resources.requests.memory"), rule: "memory must be given: set domain.memory.guest, resources.requests.memory or resources.limits.memory" });
  }
  if (reqMem !== null && reqMem < oneM) {
    out.push({ path: joinPath(here, "resources.requests.memory"), rule: `"${req?.memory}" is below the minimum; must be at least 1M` });
  }
  if (reqMem !== null && limMem !== null && reqMem > limMem) {
    out.push({ path: joinPath(here, "resources.requests.memory"), rule: `"${req?.memory}" is more than the limit "${lim?.memory}"; requests must not exceed limits` });
  }
  if (guest !== null && guest < oneM) {
    out.push({ path: joinPath(here, "memory.guest"), rule: `"${d.memory?.guest}" is below the minimum; must be at least 1M` });
  }
  if (guest !== null && limMem !== null && guest > limMem) {
    out.push({ path: joinPath(here, "memory.guest"), rule: `"${d.memory?.guest}" is more than the memory limit "${lim?.memory}"; must not exceed it` });
  }
  const reqCpu = num(req?.cpu);
  const limCpu = num(lim?.cpu);
  if (reqCpu !== null && limCpu !== null && reqCpu > limCpu) {
    out.push({ path: joinPath(here, "resources.requests.cpu"), rule: `"${req?.cpu}" is more than the limit "${lim?.cpu}"; requests must not exceed limits` });
  }
  return out;
}
