/**
 * An instancetype applied to a VM's template, with KubeVirt's conflict
 * rules: what the instancetype sets, the VM may not set too (its vCPU
 * topology and CPU requests and limits when the instancetype gives vCPUs,
 * which it always does; memory.guest and memory requests and limits; the
 * model, dedicated CPUs, node selector, or an annotation with another value
 * when the instancetype sets them). Pure: returns a new template or the conflicts.
 */
import type { Problem } from "../problem.ts";
import { quantityBytes } from "../quantity.ts";
import type { VmiSpec } from "../v1/vmi.ts";
import type { InstancetypeSpec } from "./instancetype.ts";
import { vcpuTopology } from "./topology.ts";
import type { PreferenceSpec } from "./preference.ts";

export interface Template {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: VmiSpec;
}

export interface Named<T> {
  name: string;
  spec: T;
}

export function applyInstancetype(template: Template, it: Named<InstancetypeSpec>, preference: PreferenceSpec | undefined, base: string): { template: Template } | { problems: Problem[] } {
  const out = structuredClone(template);
  const { spec } = out;
  const domain = spec.domain;
  const clash = (field: string): Problem => ({ path: `${base}.spec.${field}`, rule: `conflicts with instancetype "${it.name}", which sets it; remove it from the VM` });
  const problems: Problem[] = [];
  const cpu = domain.cpu ?? {};
  for (const f of ["sockets", "cores", "threads"] as const) if (cpu[f] !== undefined) problems.push(clash(`domain.cpu.${f}`));
  if (cpu.model !== undefined && it.spec.cpu.model !== undefined) problems.push(clash("domain.cpu.model"));
  if (cpu.dedicatedCpuPlacement === true && it.spec.cpu.dedicatedCPUPlacement !== undefined) problems.push(clash("domain.cpu.dedicatedCpuPlacement"));
  if (cpu.isolateEmulatorThread === true && it.spec.cpu.isolateEmulatorThread !== undefined) problems.push(clash("domain.cpu.isolateEmulatorThread"));
  if (domain.memory?.guest !== undefined) problems.push(clash("domain.memory.guest"));
  for (const kind of ["requests", "limits"] as const) {
    const list = domain.resources?.[kind];
    if (list?.cpu !== undefined) problems.push(clash(`domain.resources.${kind}.cpu`));
    if (list?.memory !== undefined) problems.push(clash(`domain.resources.${kind}.memory`));
  }
  if (it.spec.nodeSelector !== undefined && spec.nodeSelector !== undefined) problems.push(clash("nodeSelector"));
  const annotations = { ...out.metadata?.annotations };
  for (const [key, value] of Object.entries(it.spec.annotations ?? {})) {
    const mine = annotations[key];
    if (mine !== undefined && mine !== value) problems.push({ path: `${base}.metadata.annotations.${key}`, rule: `conflicts with instancetype "${it.name}", which sets it to "${value}"` });
    annotations[key] = value;
  }
  if (problems.length > 0) return { problems };

  const { model, dedicatedCPUPlacement, isolateEmulatorThread } = it.spec.cpu;
  domain.cpu = {
    ...cpu,
    ...vcpuTopology(it.spec.cpu.guest, preference),
    ...(model !== undefined ? { model } : {}),
    ...(dedicatedCPUPlacement !== undefined ? { dedicatedCpuPlacement: dedicatedCPUPlacement } : {}),
    ...(isolateEmulatorThread !== undefined ? { isolateEmulatorThread } : {}),
  };
  domain.memory = { ...domain.memory, guest: it.spec.memory.guest };
  const percent = it.spec.memory.overcommitPercent ?? 0;
  if (percent > 0) {
    const request = Math.floor(quantityBytes(it.spec.memory.guest) * (100 - percent) / 100);
    domain.resources = { ...domain.resources, requests: { ...domain.resources?.requests, memory: String(request) } };
  }
  if (it.spec.nodeSelector !== undefined) spec.nodeSelector = { ...it.spec.nodeSelector };
  if (it.spec.annotations !== undefined) out.metadata = { ...out.metadata, annotations };
  return { template: out };
}
