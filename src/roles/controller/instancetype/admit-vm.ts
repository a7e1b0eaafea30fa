/**
 * Admission of a VM that names an instancetype or preference, as KubeVirt's
 * VM admitter: the VM is checked as expanded with what it names (a field
 * the instancetype sets too is refused, naming the field), from the
 * revisions it records when it has them. What cannot be found does not
 * refuse the VM (KubeVirt ignores a failed lookup here): the controller
 * shows it on the VM's status and starts it once it exists. Without its
 * instancetype the VM is checked for its schema and metadata only (its
 * template may leave the size to the instancetype); without its preference,
 * as expanded with the instancetype alone. Each such miss is a warning,
 * which kubectl prints. Pure.
 */
import * as v from "valibot";
import { checkMetadata } from "../../../api/admission/metadata.ts";
import { checkXmlChars } from "../../../api/admission/xml-chars.ts";
import { instancetypeKindOf, preferenceKindOf } from "../../../api/instancetype/matcher.ts";
import type { PreferenceSpec } from "../../../api/instancetype/preference.ts";
import type { SpecSource } from "../../../api/instancetype/source.ts";
import { issuesToProblems, type Problem } from "../../../api/problem.ts";
import { validate } from "../../../api/validate.ts";
import { virtualMachine, type VirtualMachine } from "../../../api/v1/vm.ts";
import type { Fetched } from "./fetch-found.ts";
import { foundSource } from "./found-source.ts";
import { syncStatusRef, type StatusRef } from "./revision.ts";

export type VmAdmission = { ok: true; warnings: string[] } | { ok: false; problems: Problem[] };

type Refs = { instancetypeRef?: StatusRef; preferenceRef?: StatusRef };

/** The VM with only the status refs the controller would keep for its matchers (a ref of another name or kind is dropped). */
function withSyncedRefs(vm: VirtualMachine): VirtualMachine {
  const status: Record<string, unknown> & Refs = { ...(vm.status ?? {}) };
  const sides = [["instancetypeRef", vm.spec.instancetype, instancetypeKindOf], ["preferenceRef", vm.spec.preference, preferenceKindOf]] as const;
  for (const [key, matcher, kindOf] of sides) {
    if (matcher === undefined) {
      delete status[key];
      continue;
    }
    const { ref, needsRevision } = syncStatusRef(matcher, status[key], kindOf);
    if (needsRevision) delete status[key];
    else status[key] = ref;
  }
  return { ...vm, status } as VirtualMachine;
}

const revisionOf = (matcher: { revisionName?: string } | undefined, ref: StatusRef | undefined): { revisionName?: string } => {
  const name = matcher?.revisionName ?? ref?.controllerRevisionRef?.name;
  return name !== undefined && name !== "" ? { revisionName: name } : {};
};

/** What the VM's instancetype and preference lookups say (problem text, or nothing when found). */
function misses(vm: VirtualMachine, source: SpecSource): { instancetype?: string; preference?: string; preferenceSpec?: PreferenceSpec } {
  const namespace = vm.metadata.namespace ?? "default";
  const refs = (vm.status ?? {}) as Refs;
  const out: { instancetype?: string; preference?: string; preferenceSpec?: PreferenceSpec } = {};
  const it = vm.spec.instancetype;
  if (it !== undefined) {
    const got = source.instancetype({ kind: instancetypeKindOf(it), name: it.name, namespace, ...revisionOf(it, refs.instancetypeRef) });
    if ("problem" in got) out.instancetype = got.problem;
  }
  const p = vm.spec.preference;
  if (p !== undefined) {
    const got = source.preference({ kind: preferenceKindOf(p), name: p.name, namespace, ...revisionOf(p, refs.preferenceRef) });
    if ("problem" in got) out.preference = got.problem;
    else out.preferenceSpec = got.spec;
  }
  return out;
}

const laterWarning = (problem: string): string => `${problem}: the VirtualMachine is admitted unchecked against it and will not start until it can be found`;

export function admitVmWithInstancetypes(obj: unknown, fetched: Fetched): VmAdmission {
  const parsed = v.safeParse(virtualMachine, obj);
  if (!parsed.success) return { ok: false, problems: issuesToProblems(parsed.issues) };
  const vm = withSyncedRefs(parsed.output);
  const source = foundSource(fetched.found);
  const missing = misses(vm, source);
  const warnings = [...fetched.warnings];
  if (missing.instancetype !== undefined) {
    warnings.push(laterWarning(missing.instancetype));
    if (missing.preference !== undefined) warnings.push(laterWarning(missing.preference));
    const chars = checkXmlChars(vm.metadata, "metadata");
    const problems = chars.length > 0 ? chars : checkMetadata(vm.metadata, "metadata");
    return problems.length > 0 ? { ok: false, problems } : { ok: true, warnings };
  }
  let checked: VirtualMachine = vm;
  if (missing.preference !== undefined) {
    warnings.push(laterWarning(missing.preference));
    const { preference: _p, ...spec } = vm.spec;
    const { preferenceRef: _r, ...status } = (vm.status ?? {}) as Refs & Record<string, unknown>;
    checked = { ...vm, spec, status } as VirtualMachine;
  }
  const result = validate(checked, source);
  return result.ok ? { ok: true, warnings } : { ok: false, problems: result.problems };
}

/** The machine type the VM's preference prefers, when it names one that can be found (the mutating webhook's default). */
export function preferredMachineType(vm: VirtualMachine, fetched: Fetched): string | undefined {
  if (vm.spec.preference === undefined) return undefined;
  return misses(withSyncedRefs(vm), foundSource(fetched.found)).preferenceSpec?.machine?.preferredMachineType;
}
