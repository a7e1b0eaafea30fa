/**
 * A VM's `spec.instancetype` and `spec.preference`: which instancetype or
 * preference it takes, by name and kind. KubeVirt reads the kind without
 * regard to case, as the kind or its singular or plural resource name; no
 * kind means the cluster-wide one.
 */
import * as v from "valibot";
import { doc, nonEmpty } from "../v1/primitives.ts";

export const instancetypeKinds = ["VirtualMachineInstancetype", "VirtualMachineClusterInstancetype"] as const;
export const preferenceKinds = ["VirtualMachinePreference", "VirtualMachineClusterPreference"] as const;
export type InstancetypeKind = (typeof instancetypeKinds)[number];
export type PreferenceKind = (typeof preferenceKinds)[number];

function spellings(kinds: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of kinds) for (const s of [k, `${k}s`]) out.set(s.toLowerCase(), k);
  return out;
}
const instancetypeSpellings = spellings(instancetypeKinds);
const preferenceSpellings = spellings(preferenceKinds);

const kindField = (kinds: readonly string[], spelled: Map<string, string>) =>
  doc(
    v.pipe(v.string(), v.check((k) => k === "" || spelled.has(k.toLowerCase()), `must be ${kinds.join(" or ")} (any case, or their plural)`)),
    `${kinds[0]} (in the VM's namespace) or ${kinds[1]}. Default: ${kinds[1]}.`,
  );

const revisionName = doc(v.string(), "Name of the ControllerRevision holding the copy the VM was expanded with. Set by bunvirt (status.*Ref is where it records it); when set, that copy is used instead of the current object.");

export const instancetypeMatcher = v.strictObject({
  name: doc(nonEmpty(), "Name of the instancetype."),
  kind: v.optional(kindField(instancetypeKinds, instancetypeSpellings)),
  revisionName: v.optional(revisionName),
});

export const preferenceMatcher = v.strictObject({
  name: doc(nonEmpty(), "Name of the preference."),
  kind: v.optional(kindField(preferenceKinds, preferenceSpellings)),
  revisionName: v.optional(revisionName),
});

export type InstancetypeMatcher = v.InferOutput<typeof instancetypeMatcher>;
export type PreferenceMatcher = v.InferOutput<typeof preferenceMatcher>;

/** The kind a matcher names, spelled as the kind. */
export function instancetypeKindOf(m: { kind?: string }): InstancetypeKind {
  return (instancetypeSpellings.get((m.kind ?? "").toLowerCase()) ?? "VirtualMachineClusterInstancetype") as InstancetypeKind;
}

export function preferenceKindOf(m: { kind?: string }): PreferenceKind {
  return (preferenceSpellings.get((m.kind ?? "").toLowerCase()) ?? "VirtualMachineClusterPreference") as PreferenceKind;
}

/** Whether a kind is namespaced (looked up in the VM's namespace). */
export const isNamespacedKind = (kind: InstancetypeKind | PreferenceKind): boolean => !kind.includes("Cluster");
