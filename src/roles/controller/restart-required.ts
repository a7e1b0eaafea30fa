/**
 * KubeVirt's RestartRequired condition: a running VMI was made from the VM's
 * template as it was then; a later change to the template (or to the
 * instancetype or preference the VM names) reaches the VMI only through a
 * restart, and the VM says so until then. The VMI keeps a hash of what it
 * was made from (an annotation, so no extra write), and the VM's status
 * compares it with the VM's now. Nothing is live-updatable in bunvirt, as in
 * KubeVirt's Stage rollout strategy. A revert clears the condition, as a
 * restart does.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../../api/canonical-json.ts";
import { instancetypeKindOf, preferenceKindOf } from "../../api/instancetype/matcher.ts";
import type { Vm, Vmi } from "./model.ts";

export const templateHashAnnotation = "bunvirt.io/vm-template-hash";
export const restartRequiredMessage = "a non-live-updatable field was changed in the template spec";

/** The hash of what a VMI is made from: the template's spec and the instancetype and preference the VM names. */
export function templateHash(vm: Pick<Vm, "spec">): string {
  const { instancetype: it, preference: pref } = vm.spec;
  const made = {
    spec: vm.spec.template.spec,
    instancetype: it === undefined ? undefined : { kind: instancetypeKindOf(it), name: it.name, revisionName: it.revisionName },
    preference: pref === undefined ? undefined : { kind: preferenceKindOf(pref), name: pref.name, revisionName: pref.revisionName },
  };
  return createHash("sha256").update(canonicalJson(made)).digest("hex").slice(0, 32);
}

/** Whether the VMI was made from another template than the VM has now (false when the VMI does not say). */
export function restartRequired(vm: Pick<Vm, "spec">, vmi: Pick<Vmi, "metadata">): boolean {
  const made = vmi.metadata.annotations?.[templateHashAnnotation];
  return made !== undefined && made !== templateHash(vm);
}
