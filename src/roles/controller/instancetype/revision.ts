/**
 * The ControllerRevisions that keep the copy of an instancetype or
 * preference a VM was first expanded with, as KubeVirt's VM controller
 * makes them (pkg/instancetype/revision): named
 * `<vm>-<object>-<version>-<object uid>-<generation>`, in the VM's
 * namespace, owned by the VM (garbage collected with it), labelled with the
 * object's kind, name, uid, generation and version, `data` the whole object
 * without its labels, annotations, finalizers, owners and managed fields.
 * The VM's status.instancetypeRef / preferenceRef name the revision; they
 * follow the VM's matcher as KubeVirt's syncStatusWithMatcher does. Pure.
 */
import * as v from "valibot";
import { instancetypeApiVersion, instancetypeSpec, instancetypeVersion, type InstancetypeSpec } from "../../../api/instancetype/instancetype.ts";
import { instancetypeKinds, preferenceKinds, type InstancetypeKind, type PreferenceKind } from "../../../api/instancetype/matcher.ts";
import { preferenceSpec, type PreferenceSpec } from "../../../api/instancetype/preference.ts";
import type { Lookup } from "../../../api/instancetype/source.ts";
import { problemsText, issuesToProblems } from "../../../api/problem.ts";
import type { OwnerReference } from "../model.ts";

export const revisionLabels = {
  generation: "instancetype.kubevirt.io/object-generation",
  kind: "instancetype.kubevirt.io/object-kind",
  name: "instancetype.kubevirt.io/object-name",
  uid: "instancetype.kubevirt.io/object-uid",
  version: "instancetype.kubevirt.io/object-version",
} as const;

/** An instancetype or preference as the API server returns it. */
export interface InstancetypeObject {
  apiVersion?: string;
  kind: InstancetypeKind | PreferenceKind;
  metadata: { name?: string; namespace?: string; uid?: string; generation?: number; [k: string]: unknown };
  spec: unknown;
}

export interface ControllerRevision {
  apiVersion: "apps/v1";
  kind: "ControllerRevision";
  metadata: { name: string; namespace: string; labels: Record<string, string>; ownerReferences: OwnerReference[]; [k: string]: unknown };
  data: InstancetypeObject;
  revision: number;
}

/** status.instancetypeRef / status.preferenceRef. */
export interface StatusRef {
  name?: string;
  kind?: string;
  controllerRevisionRef?: { name?: string };
}

export function revisionName(vmName: string, obj: InstancetypeObject): string {
  return `${vmName}-${obj.metadata.name ?? ""}-${instancetypeVersion}-${obj.metadata.uid ?? ""}-${obj.metadata.generation ?? 0}`;
}

/** The revision `owner` (the VM's controller reference) keeps of `obj`. */
export function controllerRevisionFor(vm: { metadata: { name?: string; namespace?: string } }, owner: OwnerReference, obj: InstancetypeObject): ControllerRevision {
  const { labels: _l, annotations: _a, finalizers: _f, ownerReferences: _o, managedFields: _m, ...meta } = obj.metadata;
  const name = revisionName(vm.metadata.name ?? "", obj);
  return {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name,
      namespace: vm.metadata.namespace ?? "default",
      ownerReferences: [owner],
      labels: {
        [revisionLabels.generation]: String(obj.metadata.generation ?? 0),
        [revisionLabels.kind]: obj.kind,
        [revisionLabels.name]: obj.metadata.name ?? "",
        [revisionLabels.uid]: obj.metadata.uid ?? "",
        [revisionLabels.version]: instancetypeVersion,
      },
    },
    data: { apiVersion: instancetypeApiVersion, kind: obj.kind, metadata: meta, spec: obj.spec },
    revision: 0,
  };
}

/** Whether an existing revision of that name holds the same object (KubeVirt's Compare: the spec). */
export const sameRevisionData = (a: ControllerRevision, b: { data?: unknown }): boolean =>
  Bun.deepEquals(a.data.spec, (b.data as { spec?: unknown } | undefined)?.spec);

type Family = "instancetype" | "preference";
const familyKinds: Record<Family, readonly string[]> = { instancetype: instancetypeKinds, preference: preferenceKinds };

/** The spec a revision holds, checked against the schema; a problem names the revision. */
export function specOfRevision(rev: { metadata?: { name?: string }; data?: unknown }, family: "instancetype"): Lookup<InstancetypeSpec>;
export function specOfRevision(rev: { metadata?: { name?: string }; data?: unknown }, family: "preference"): Lookup<PreferenceSpec>;
export function specOfRevision(rev: { metadata?: { name?: string }; data?: unknown }, family: Family): Lookup<InstancetypeSpec | PreferenceSpec> {
  const name = rev.metadata?.name ?? "";
  const data = (rev.data ?? {}) as { apiVersion?: unknown; kind?: unknown; spec?: unknown };
  if (data.apiVersion !== instancetypeApiVersion || typeof data.kind !== "string" || !familyKinds[family].includes(data.kind)) {
    return { problem: `ControllerRevision "${name}" does not hold an ${instancetypeApiVersion} ${familyKinds[family].join(" or ")} (it holds ${String(data.apiVersion)} ${String(data.kind)})` };
  }
  const parsed = v.safeParse(family === "instancetype" ? instancetypeSpec : preferenceSpec, data.spec);
  if (!parsed.success) return { problem: `ControllerRevision "${name}" holds a ${data.kind} bunvirt cannot use: ${problemsText(issuesToProblems(parsed.issues))}` };
  return { spec: parsed.output };
}

/**
 * The status ref for the VM's matcher (KubeVirt's syncStatusWithMatcher): a
 * changed name or kind drops the recorded revision; the matcher's
 * revisionName wins; `needsRevision` when none is recorded (the object is
 * then looked up and a revision of it stored). `kind` is the matcher's kind
 * as `canonical` spells it (the default kind when it names none), and is
 * recorded so; a recorded kind is compared the same way.
 */
export function syncStatusRef(
  matcher: { name: string; kind?: string; revisionName?: string },
  current: StatusRef | undefined,
  canonical: (m: { kind?: string }) => string,
): { ref: StatusRef; needsRevision: boolean } {
  const ref: StatusRef = structuredClone(current ?? {});
  const kind = canonical(matcher);
  const recordedKind = ref.kind === undefined ? undefined : canonical({ kind: ref.kind });
  if (matcher.name !== ref.name || (recordedKind !== undefined && kind !== recordedKind)) delete ref.controllerRevisionRef;
  ref.name = matcher.name;
  ref.kind = kind;
  const wanted = matcher.revisionName;
  if (wanted !== undefined && wanted !== "" && ref.controllerRevisionRef?.name !== wanted) ref.controllerRevisionRef = { name: wanted };
  const recorded = ref.controllerRevisionRef?.name;
  return { ref, needsRevision: recorded === undefined || recorded === "" };
}
