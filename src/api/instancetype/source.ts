/**
 * Where a VM's instancetype and preference come from: the API (the
 * controller's caches and ControllerRevisions) or, offline, the other
 * documents of the input. A lookup gives the spec or why there is none.
 */
import type { Problem } from "../problem.ts";
import type { VirtualMachine } from "../v1/vm.ts";
import { expandTemplate, type Expanded, type Expansion } from "./expand.ts";
import type { InstancetypeSpec } from "./instancetype.ts";
import { instancetypeKindOf, preferenceKindOf, type InstancetypeKind, type PreferenceKind } from "./matcher.ts";
import type { PreferenceSpec } from "./preference.ts";

export type Lookup<T> = { spec: T } | { problem: string };

export interface Wanted<K> {
  kind: K;
  name: string;
  /** The VM's namespace: where a namespaced kind is looked up. */
  namespace: string;
  /** A ControllerRevision holding the copy to use (spec.*.revisionName or status.*Ref). */
  revisionName?: string;
}

export interface SpecSource {
  instancetype(wanted: Wanted<InstancetypeKind>): Lookup<InstancetypeSpec>;
  preference(wanted: Wanted<PreferenceKind>): Lookup<PreferenceSpec>;
}

/** No instancetypes or preferences anywhere: every lookup says so. */
export const noSource: SpecSource = {
  instancetype: ({ kind, name }) => ({ problem: `${kind} "${name}" cannot be looked up here` }),
  preference: ({ kind, name }) => ({ problem: `${kind} "${name}" cannot be looked up here` }),
};

/** Whether the VM names an instancetype or a preference. */
export const usesInstancetypes = (vm: Pick<VirtualMachine, "spec">): boolean => vm.spec.instancetype !== undefined || vm.spec.preference !== undefined;

type RevisionRefs = { instancetypeRef?: { controllerRevisionRef?: { name?: string } }; preferenceRef?: { controllerRevisionRef?: { name?: string } } };

/** The VM's template with its instancetype and preference applied; problems at the VM's paths. */
export function expandVm(vm: Pick<VirtualMachine, "metadata" | "spec" | "status">, source: SpecSource): Expanded {
  const namespace = vm.metadata.namespace ?? "default";
  const refs = (vm.status ?? {}) as RevisionRefs;
  const problems: Problem[] = [];
  const exp: Expansion = {};
  const it = vm.spec.instancetype;
  if (it !== undefined) {
    const revisionName = it.revisionName ?? refs.instancetypeRef?.controllerRevisionRef?.name;
    const found = source.instancetype({ kind: instancetypeKindOf(it), name: it.name, namespace, ...(revisionName !== undefined ? { revisionName } : {}) });
    if ("problem" in found) problems.push({ path: "spec.instancetype.name", rule: found.problem });
    else exp.instancetype = { name: it.name, spec: found.spec };
  }
  const p = vm.spec.preference;
  if (p !== undefined) {
    const revisionName = p.revisionName ?? refs.preferenceRef?.controllerRevisionRef?.name;
    const found = source.preference({ kind: preferenceKindOf(p), name: p.name, namespace, ...(revisionName !== undefined ? { revisionName } : {}) });
    if ("problem" in found) problems.push({ path: "spec.preference.name", rule: found.problem });
    else exp.preference = { name: p.name, spec: found.spec };
  }
  if (problems.length > 0) return { ok: false, problems };
  return expandTemplate(vm.spec.template, exp);
}
