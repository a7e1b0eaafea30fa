/**
 * Validation exactly as the admission webhook does it: the schema (shape,
 * types, unknown fields), then KubeVirt's semantic rules.
 */
import * as v from "valibot";
import { admitVmSpec, admitVmiSpec } from "./admission/index.ts";
import { checkXmlChars } from "./admission/xml-chars.ts";
import { checkMetadata } from "./admission/metadata.ts";
import { alphaToV1 } from "./convert/v1alpha1.ts";
import { admitInstancetype, admitPreference } from "./instancetype/admission.ts";
import type { Template } from "./instancetype/expand.ts";
import type { VirtualMachineClusterInstancetype, VirtualMachineInstancetype } from "./instancetype/instancetype.ts";
import type { VirtualMachineClusterPreference, VirtualMachinePreference } from "./instancetype/preference.ts";
import { expandVm, noSource, usesInstancetypes, type SpecSource } from "./instancetype/source.ts";
import { describeKey, kindKey, kindKeys, schemas } from "./kinds.ts";
import { issuesToProblems, joinPath, type Problem } from "./problem.ts";
import type { VirtualMachineV1alpha1 } from "./v1alpha1/vm.ts";
import type { VirtualMachine } from "./v1/vm.ts";
import type { VirtualMachineInstance } from "./v1/vmi.ts";

/** A manifest that stands for a VMI: a VMI, or a VM (with its template expanded when it names an instancetype or preference). */
export type VmLike =
  | { key: "v1/VirtualMachine"; object: VirtualMachine; expanded?: Template }
  | { key: "v1/VirtualMachineInstance"; object: VirtualMachineInstance }
  | { key: "v1alpha1/VirtualMachine"; object: VirtualMachineV1alpha1 };

export type Valid =
  | VmLike
  | { key: "v1beta1/VirtualMachineInstancetype"; object: VirtualMachineInstancetype }
  | { key: "v1beta1/VirtualMachineClusterInstancetype"; object: VirtualMachineClusterInstancetype }
  | { key: "v1beta1/VirtualMachinePreference"; object: VirtualMachinePreference }
  | { key: "v1beta1/VirtualMachineClusterPreference"; object: VirtualMachineClusterPreference };

export const isVmLike = (valid: Valid): valid is VmLike => !valid.key.startsWith("v1beta1/");

export type Result = { ok: true; valid: Valid } | { ok: false; problems: Problem[] };

const supported = kindKeys.map(describeKey).join(", ");

/**
 * `source` gives the instancetypes and preferences a VM names; without one a
 * VM that names any is refused (their lookup has nowhere to go).
 */
export function validate(obj: unknown, source: SpecSource = noSource): Result {
  const key = kindKey(obj);
  if (key === null) return { ok: false, problems: [unservedKind(obj)] };
  const parsed = v.safeParse(schemas[key], obj);
  if (!parsed.success) return { ok: false, problems: issuesToProblems(parsed.issues).map((p) => (key === "v1/VirtualMachineInstance" ? vmiOnlyHint(p) : p)) };
  const valid = { key, object: parsed.output } as Valid;
  if (valid.key === "v1/VirtualMachine" && usesInstancetypes(valid.object)) return expandAndAdmit(valid, source);
  const problems = admit(valid, source);
  return problems.length === 0 ? { ok: true, valid } : { ok: false, problems };
}

/** A VM that names an instancetype or preference is admitted as expanded: that is what it runs. */
function expandAndAdmit(valid: { key: "v1/VirtualMachine"; object: VirtualMachine }, source: SpecSource): Result {
  const vm = valid.object;
  const chars = checkXmlChars(vm.metadata, "metadata");
  if (chars.length > 0) return { ok: false, problems: chars };
  const expanded = expandVm(vm, source);
  if (!expanded.ok) return { ok: false, problems: expanded.problems };
  const problems = [...checkMetadata(vm.metadata, "metadata"), ...admitVmSpec({ ...vm.spec, template: expanded.template }, "spec", vm.metadata.namespace)];
  return problems.length === 0 ? { ok: true, valid: { ...valid, expanded: expanded.template } } : { ok: false, problems };
}

/** A VM's field given to a VMI: say where it belongs rather than "not supported". */
function vmiOnlyHint(p: Problem): Problem {
  if (p.path !== "spec.dataVolumeTemplates") return p;
  return { path: p.path, rule: "only a VirtualMachine has dataVolumeTemplates; a VirtualMachineInstance uses an existing DataVolume by a dataVolume volume" };
}

/** Why a document is not one of the kinds bunvirt serves, in the user's terms. */
function unservedKind(obj: unknown): Problem {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    const what = obj === null ? "empty" : Array.isArray(obj) ? "a list" : `a ${typeof obj}`;
    return { path: "(document)", rule: `must be a manifest (a mapping with apiVersion, kind, metadata and spec), not ${what}` };
  }
  const { apiVersion, kind } = obj as { apiVersion?: unknown; kind?: unknown };
  if (apiVersion === undefined) return { path: "apiVersion", rule: `is required; bunvirt serves ${supported}` };
  if (typeof apiVersion !== "string") return { path: "apiVersion", rule: "must be a string such as \"kubevirt.io/v1\"" };
  if (kind === undefined) return { path: "kind", rule: `is required; bunvirt serves ${supported}` };
  if (typeof kind !== "string") return { path: "kind", rule: "must be a string such as \"VirtualMachine\"" };
  return { path: "apiVersion", rule: `apiVersion "${apiVersion}" kind "${kind}" is not served by bunvirt; supported: ${supported}` };
}

function admit(valid: Valid, source: SpecSource): Problem[] {
  // Text XML cannot carry is refused first and alone: the other rules quote values in their messages.
  const chars = checkXmlChars(valid.object.metadata, "metadata");
  return chars.length > 0 ? chars : [...checkMetadata(valid.object.metadata, "metadata"), ...admitSpec(valid, source)];
}

function admitSpec(valid: Valid, source: SpecSource): Problem[] {
  switch (valid.key) {
    case "v1/VirtualMachine":
      return admitVmSpec(valid.object.spec, "spec", valid.object.metadata.namespace);
    case "v1/VirtualMachineInstance":
      return admitVmiSpec(valid.object.spec, "spec");
    case "v1alpha1/VirtualMachine":
      return admitAlpha(valid.object, source);
    case "v1beta1/VirtualMachineInstancetype":
    case "v1beta1/VirtualMachineClusterInstancetype":
      return admitInstancetype(valid.object.spec, "spec");
    case "v1beta1/VirtualMachinePreference":
    case "v1beta1/VirtualMachineClusterPreference":
      return admitPreference(valid.object.spec, "spec");
  }
}

/**
 * v1alpha1 disks name their volume; check those references on the v1alpha1
 * form, then run the v1 rules on the converted spec and report them at the
 * v1alpha1 paths (the lists keep their order in conversion).
 */
function admitAlpha(alpha: VirtualMachineV1alpha1, source: SpecSource): Problem[] {
  // Checked on the v1alpha1 form so the paths name its fields (registryDisk, volumeName).
  const chars = checkXmlChars(alpha.spec, "spec");
  if (chars.length > 0) return chars;
  const out: Problem[] = [];
  const volumeNames = new Set((alpha.spec.volumes ?? []).map((x) => x.name));
  const users = new Map<string, string>();
  (alpha.spec.domain.devices.disks ?? []).forEach((d, i) => {
    const here = joinPath(joinPath("spec.domain.devices.disks", i), "volumeName");
    if (!volumeNames.has(d.volumeName)) out.push({ path: here, rule: `volume "${d.volumeName}" does not exist in spec.volumes` });
    const other = users.get(d.volumeName);
    if (other !== undefined) out.push({ path: here, rule: `volume "${d.volumeName}" is already used by disk "${other}"; each volume backs one disk` });
    else users.set(d.volumeName, d.name);
  });
  (alpha.spec.volumes ?? []).forEach((vol, i) => {
    if (!users.has(vol.name)) out.push({ path: joinPath(joinPath("spec.volumes", i), "name"), rule: `volume "${vol.name}" is not used by any disk` });
  });
  if (out.length > 0) return out;
  const v1 = alphaToV1(alpha) as VirtualMachine;
  // An instancetype kept in the annotation from a v1 VM: admitted as expanded, as the v1 VM is.
  let spec = v1.spec;
  if (usesInstancetypes(v1)) {
    const expanded = expandVm(v1, source);
    if (!expanded.ok) return expanded.problems;
    spec = { ...v1.spec, template: expanded.template };
  }
  return admitVmSpec(spec, "spec").map((p) => ({
    ...p,
    path: p.path.replace(/^spec\.template\.spec\b/, "spec"),
  }));
}
