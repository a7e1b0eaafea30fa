/**
 * A SpecSource over what was found in the cluster: the instancetypes and
 * preferences by kind, namespace and name, and ControllerRevisions by
 * namespace and name. The controller fills it from its informers and the
 * revisions it read or wrote, the webhook from GETs; the lookups are pure.
 * A matcher with a revision uses the revision's copy, never the current
 * object (KubeVirt's spec finders).
 */
import type { InstancetypeSpec } from "../../../api/instancetype/instancetype.ts";
import { isNamespacedKind, type InstancetypeKind, type PreferenceKind } from "../../../api/instancetype/matcher.ts";
import type { PreferenceSpec } from "../../../api/instancetype/preference.ts";
import type { Lookup, SpecSource, Wanted } from "../../../api/instancetype/source.ts";
import { instancetypeSpec } from "../../../api/instancetype/instancetype.ts";
import { preferenceSpec } from "../../../api/instancetype/preference.ts";
import { issuesToProblems, problemsText } from "../../../api/problem.ts";
import * as v from "valibot";
import { specOfRevision, type InstancetypeObject } from "./revision.ts";

export interface Found {
  /** The object of that kind and name (namespace: the VM's, for a namespaced kind; ignored for a cluster kind). */
  object(kind: InstancetypeKind | PreferenceKind, namespace: string, name: string): InstancetypeObject | undefined;
  revision(namespace: string, name: string): { metadata?: { name?: string; labels?: Record<string, string> }; data?: unknown } | undefined;
}

export function notFound(kind: string, name: string, namespace: string): string {
  return `${kind} "${name}"${isNamespacedKind(kind as InstancetypeKind) ? ` in namespace "${namespace}"` : ""} not found`;
}

function lookup<T>(found: Found, w: Wanted<InstancetypeKind | PreferenceKind>, family: "instancetype" | "preference", schema: v.GenericSchema<unknown, T>): Lookup<T> {
  if (w.revisionName !== undefined && w.revisionName !== "") {
    const rev = found.revision(w.namespace, w.revisionName);
    if (rev === undefined) return { problem: `ControllerRevision "${w.revisionName}" in namespace "${w.namespace}" not found (it holds the ${w.kind} "${w.name}" the VM was first expanded with)` };
    return (family === "instancetype" ? specOfRevision(rev, "instancetype") : specOfRevision(rev, "preference")) as Lookup<T>;
  }
  const obj = found.object(w.kind, w.namespace, w.name);
  if (obj === undefined) return { problem: notFound(w.kind, w.name, w.namespace) };
  const parsed = v.safeParse(schema, obj.spec);
  if (!parsed.success) return { problem: `${w.kind} "${w.name}" cannot be used: ${problemsText(issuesToProblems(parsed.issues))}` };
  return { spec: parsed.output };
}

export function foundSource(found: Found): SpecSource {
  return {
    instancetype: (w) => lookup<InstancetypeSpec>(found, w, "instancetype", instancetypeSpec),
    preference: (w) => lookup<PreferenceSpec>(found, w, "preference", preferenceSpec),
  };
}
