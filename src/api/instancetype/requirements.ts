/**
 * A preference's requirements and its spread layout checked against the
 * VM's size: the vCPUs and memory the instancetype gives, or without one
 * the VM's own (sockets × cores × threads, memory.guest or the memory
 * request). KubeVirt's rules, with the field that is short named.
 */
import type { Problem } from "../problem.ts";
import { quantityBytes } from "../quantity.ts";
import type { VmiSpec } from "../v1/vmi.ts";
import type { InstancetypeSpec } from "./instancetype.ts";
import type { Named } from "./apply-instancetype.ts";
import type { PreferenceSpec } from "./preference.ts";
import { layoutOf, spreadOf, spreadUnit } from "./topology.ts";

export function checkRequirements(spec: VmiSpec, it: Named<InstancetypeSpec> | undefined, p: Named<PreferenceSpec>, base: string): Problem[] {
  const out: Problem[] = [];
  const need = p.spec.requirements;
  const from = it !== undefined ? `instancetype "${it.name}"` : "the VM";
  if (need?.cpu !== undefined) {
    const cpu = spec.domain.cpu ?? {};
    const vcpus = it?.spec.cpu.guest ?? (cpu.sockets ?? 1) * (cpu.cores ?? 1) * (cpu.threads ?? 1);
    if (vcpus < need.cpu.guest) {
      out.push({
        path: it !== undefined ? "spec.instancetype.name" : `${base}.spec.domain.cpu`,
        rule: `gives ${vcpus} vCPU(s) (${from}), fewer than preference "${p.name}" requires (${need.cpu.guest})`,
      });
    }
  }
  if (need?.memory !== undefined) {
    const guest = it?.spec.memory.guest ?? spec.domain.memory?.guest ?? spec.domain.resources?.requests?.memory;
    const have = guest === undefined ? 0 : quantityBytes(guest);
    if (have < quantityBytes(need.memory.guest)) {
      out.push({
        path: it !== undefined ? "spec.instancetype.name" : `${base}.spec.domain.memory.guest`,
        rule: `gives ${guest ?? "no"} memory (${from}), less than preference "${p.name}" requires (${need.memory.guest})`,
      });
    }
  }
  if (it !== undefined && layoutOf(p.spec) === "spread" && it.spec.cpu.guest % spreadUnit(p.spec) !== 0) {
    const { ratio, across } = spreadOf(p.spec);
    out.push({
      path: "spec.instancetype.name",
      rule: `instancetype "${it.name}" gives ${it.spec.cpu.guest} vCPUs, which preference "${p.name}" cannot spread across ${across} at ratio ${ratio}: they must be a multiple of ${spreadUnit(p.spec)}`,
    });
  }
  return out;
}
