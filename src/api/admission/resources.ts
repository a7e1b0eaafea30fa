import { maxMemoryBytes, maxVcpus, minMemoryBytes } from "../limits.ts";
import { parseQuantity, type Quantity } from "../quantity.ts";
import { joinPath, type Problem } from "../problem.ts";
import type { VmiSpec } from "../v1/vmi.ts";

const num = (q: Quantity | undefined): number | null => (q === undefined ? null : parseQuantity(q));

/** Each memory quantity is not negative, at least 1M and at most what an x86-64 guest can address. */
export function memoryBounds(path: string, q: Quantity | undefined, value: number | null): Problem[] {
  if (value === null) return [];
  if (value < 0) return [{ path, rule: `"${q}" is negative; memory must not be negative` }];
  if (value < minMemoryBytes) return [{ path, rule: `"${q}" is below the minimum; must be at least 1M` }];
  if (value > maxMemoryBytes) {
    return [{ path, rule: `"${q}" is more than 4Pi (${maxMemoryBytes} bytes), the most an x86-64 guest can address` }];
  }
  return [];
}

/** Memory is given somehow and within its bounds; cpu quantities are not negative and requests do not exceed limits; vCPUs are bounded. */
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
  out.push(...memoryBounds(joinPath(here, "resources.requests.memory"), req?.memory, reqMem));
  out.push(...memoryBounds(joinPath(here, "resources.limits.memory"), lim?.memory, limMem));
  out.push(...memoryBounds(joinPath(here, "memory.guest"), d.memory?.guest, guest));
  if (reqMem !== null && limMem !== null && reqMem > limMem) {
    out.push({ path: joinPath(here, "resources.requests.memory"), rule: `"${req?.memory}" is more than the limit "${lim?.memory}"; requests must not exceed limits` });
  }
  if (guest !== null && limMem !== null && guest > limMem) {
    out.push({ path: joinPath(here, "memory.guest"), rule: `"${d.memory?.guest}" is more than the memory limit "${lim?.memory}"; must not exceed it` });
  }
  const reqCpu = num(req?.cpu);
  const limCpu = num(lim?.cpu);
  if (reqCpu !== null && reqCpu < 0) out.push({ path: joinPath(here, "resources.requests.cpu"), rule: `"${req?.cpu}" is negative; cpu must not be negative` });
  if (limCpu !== null && limCpu < 0) out.push({ path: joinPath(here, "resources.limits.cpu"), rule: `"${lim?.cpu}" is negative; cpu must not be negative` });
  if (reqCpu !== null && limCpu !== null && reqCpu > limCpu) {
    out.push({ path: joinPath(here, "resources.requests.cpu"), rule: `"${req?.cpu}" is more than the limit "${lim?.cpu}"; requests must not exceed limits` });
  }
  const c = d.cpu;
  const vcpus = (c?.sockets ?? 1) * (c?.cores ?? 1) * (c?.threads ?? 1);
  if (vcpus > maxVcpus) {
    out.push({ path: joinPath(here, "cpu"), rule: `sockets × cores × threads is ${vcpus} vCPUs; at most ${maxVcpus} (QEMU's q35 maximum)` });
  }
  return out;
}
