/**
 * A VM's template expanded with its instancetype and preference, as
 * KubeVirt's VM controller does before it makes the VMI: the instancetype
 * first (a conflict with the VM refuses the VM), then the preference's
 * defaults, then the preference's requirements. Pure.
 */
import type { Problem } from "../problem.ts";
import type { InstancetypeSpec } from "./instancetype.ts";
import { applyInstancetype, type Named, type Template } from "./apply-instancetype.ts";
import { applyPreference } from "./apply-preference.ts";
import type { PreferenceSpec } from "./preference.ts";
import { checkRequirements } from "./requirements.ts";

export type { Named, Template } from "./apply-instancetype.ts";

export interface Expansion {
  instancetype?: Named<InstancetypeSpec>;
  preference?: Named<PreferenceSpec>;
}

export type Expanded = { ok: true; template: Template } | { ok: false; problems: Problem[] };

/** `base` is the template's path, such as "spec.template". */
export function expandTemplate(template: Template, exp: Expansion, base = "spec.template"): Expanded {
  let out = template;
  if (exp.instancetype !== undefined) {
    const applied = applyInstancetype(out, exp.instancetype, exp.preference?.spec, base);
    if ("problems" in applied) return { ok: false, problems: applied.problems };
    out = applied.template;
  }
  if (exp.preference === undefined) return { ok: true, template: out };
  const problems = checkRequirements(out.spec, exp.instancetype, exp.preference, base);
  if (problems.length > 0) return { ok: false, problems };
  const spec = applyPreference(out.spec, exp.preference.spec);
  const wanted = Object.entries(exp.preference.spec.annotations ?? {});
  const annotations = { ...Object.fromEntries(wanted), ...out.metadata?.annotations };
  const metadata = wanted.length > 0 ? { ...out.metadata, annotations } : out.metadata;
  return { ok: true, template: { ...(metadata !== undefined ? { metadata } : {}), spec } };
}
