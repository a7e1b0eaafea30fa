/**
 * What the VM controller does about a VM's instancetype and preference on
 * one pass, pure (KubeVirt's instancetype controller Sync with the
 * Reference policy, then its expansion): the status refs follow the VM's
 * matchers; a matcher without a recorded revision has its object looked up
 * (missing: a FailedFindInstancetype / FailedFindPreference sync error, no
 * VMI) and a ControllerRevision of it is to be stored; the template is then
 * expanded from the revisions, never from the current objects, so a later
 * edit of an instancetype reaches the VM only through a new revision. A
 * conflict between the VM and what it names stores nothing and starts
 * nothing (KubeVirt checks it once more before storing).
 */
import { expandVm, usesInstancetypes } from "../../../api/instancetype/source.ts";
import type { Template } from "../../../api/instancetype/expand.ts";
import { instancetypeKindOf, preferenceKindOf } from "../../../api/instancetype/matcher.ts";
import { problemsText } from "../../../api/problem.ts";
import type { VirtualMachine } from "../../../api/v1/vm.ts";
import type { Vm } from "../model.ts";
import type { SyncError } from "../vm-status.ts";
import { controllerRef } from "../vmi-from-vm.ts";
import { foundSource, notFound, type Found } from "./found-source.ts";
import { controllerRevisionFor, syncStatusRef, type ControllerRevision, type StatusRef } from "./revision.ts";

export interface InstancetypePlan {
  /** The template the VMI is made from; null when it cannot be made now (syncError says why, unless the VM is going away). */
  template: Template | null;
  syncError?: SyncError;
  /** Revisions to create before the status names them. */
  store: ControllerRevision[];
  /** status.instancetypeRef and status.preferenceRef as they should be (undefined: removed), when they differ from the VM's. */
  refs?: Refs;
}

type Refs = { instancetypeRef?: StatusRef | undefined; preferenceRef?: StatusRef | undefined };

export function planInstancetypes(vm: Vm, found: Found): InstancetypePlan {
  const current = (vm.status ?? {}) as Refs;
  if (!usesInstancetypes(vm)) {
    // Refs of matchers the VM no longer has are dropped.
    const stale = current.instancetypeRef !== undefined || current.preferenceRef !== undefined;
    return { template: vm.spec.template, store: [], ...(stale ? { refs: { instancetypeRef: undefined, preferenceRef: undefined } } : {}) };
  }
  if (typeof vm.metadata.deletionTimestamp === "string") return { template: null, store: [] };
  const namespace = vm.metadata.namespace ?? "default";
  const next: Refs = { instancetypeRef: undefined, preferenceRef: undefined };
  const store: ControllerRevision[] = [];
  const sides = [
    { matcher: vm.spec.instancetype, key: "instancetypeRef", kindOf: instancetypeKindOf, reason: "FailedFindInstancetype" },
    { matcher: vm.spec.preference, key: "preferenceRef", kindOf: preferenceKindOf, reason: "FailedFindPreference" },
  ] as const;
  for (const side of sides) {
    if (side.matcher === undefined) continue;
    const { ref, needsRevision } = syncStatusRef(side.matcher, current[side.key], side.kindOf);
    next[side.key] = ref;
    if (!needsRevision) continue;
    const kind = side.kindOf(side.matcher);
    const obj = found.object(kind, namespace, side.matcher.name);
    if (obj === undefined) return { template: null, store: [], syncError: { reason: side.reason, message: notFound(kind, side.matcher.name, namespace) } };
    const rev = controllerRevisionFor(vm, controllerRef(vm), obj);
    store.push(rev);
    ref.controllerRevisionRef = { name: rev.metadata.name };
  }
  // Expanded from the revisions: those to store stand in for the ones the API server has.
  const withStored: Found = {
    object: found.object,
    revision: (ns, name) => store.find((r) => r.metadata.namespace === ns && r.metadata.name === name) ?? found.revision(ns, name),
  };
  const expanded = expandVm({ ...vm, status: { ...vm.status, ...next } } as VirtualMachine, foundSource(withStored));
  if (!expanded.ok) {
    return { template: null, store: [], syncError: { reason: "FailedCreate", message: `Cannot expand the VirtualMachine with its instancetype and preference: ${problemsText(expanded.problems)}` } };
  }
  const changed = (["instancetypeRef", "preferenceRef"] as const).some((k) => !Bun.deepEquals(next[k], current[k]));
  return { template: expanded.template, store, ...(changed ? { refs: next } : {}) };
}
