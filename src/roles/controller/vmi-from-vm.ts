/**
 * The VMI a VM starts (KubeVirt's SetupVMIFromVM): named after the VM, in its
 * namespace, with the template's labels and annotations and a copy of the
 * template's spec, owned by the VM (controller: true, so garbage collection
 * removes it with the VM), carrying the VM controller's finalizer so the
 * controller sees the VMI's end before it is gone, and with a firmware UUID
 * that stays the same across restarts. It is created in its final shape:
 * KubeVirt's VMI defaults and the foreground finalizer applied here, as the
 * mutating webhook would (the controller's own creates skip the webhooks;
 * it validates the VMI itself, controller-loop.ts).
 */
import { createHash } from "node:crypto";
import { applyVmiDefaults } from "../../api/defaults.ts";
import type { Template } from "../../api/instancetype/expand.ts";
import { instancetypeKindOf, isNamespacedKind, preferenceKindOf } from "../../api/instancetype/matcher.ts";
import type { OwnerReference, Vm, Vmi } from "./model.ts";
import { vmiFinalizer } from "./reconcile-vmi.ts";
import { templateHash, templateHashAnnotation } from "./restart-required.ts";

export const vmControllerFinalizer = "kubevirt.io/virtualMachineControllerFinalizer";

/** KubeVirt's namespace UUID for a VM's legacy firmware UUID. */
const firmwareUuidNamespace = "6a1a24a1-4061-4607-8bf4-a3963d0c5895";

/** RFC 4122 version 5 (SHA-1) UUID of `name` in `namespace`, as Go's uuid.NewSHA1. */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  const h = createHash("sha1").update(ns).update(name).digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The firmware UUID KubeVirt gives a VM's VMI when its template sets none. */
export function legacyFirmwareUuid(vmName: string): string {
  return uuidV5(firmwareUuidNamespace, vmName);
}

export function controllerRef(owner: { apiVersion: string; kind: string; metadata: { name?: string; uid?: string } }): OwnerReference {
  const { name, uid } = owner.metadata;
  if (name === undefined || uid === undefined) {
    throw new Error(`Cannot reference the ${owner.kind} as owner: metadata.name "${String(name)}" and metadata.uid "${String(uid)}" must both be set`);
  }
  return { apiVersion: owner.apiVersion, kind: owner.kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/**
 * KubeVirt's annotations naming what a VMI was expanded with
 * (kubevirt.io/instancetype-name or cluster-instancetype-name, and the
 * preference's), by the kind the VM's matcher names.
 */
export function instancetypeAnnotations(vm: Pick<Vm, "spec">): Record<string, string> {
  const out: Record<string, string> = {};
  const { instancetype, preference } = vm.spec;
  if (instancetype !== undefined) out[isNamespacedKind(instancetypeKindOf(instancetype)) ? "kubevirt.io/instancetype-name" : "kubevirt.io/cluster-instancetype-name"] = instancetype.name;
  if (preference !== undefined) out[isNamespacedKind(preferenceKindOf(preference)) ? "kubevirt.io/preference-name" : "kubevirt.io/cluster-preference-name"] = preference.name;
  return out;
}

/** `expanded`: the VM's template with its instancetype and preference applied (instancetype/plan.ts); default the template itself. */
export function vmiFromVm(vm: Vm, expanded: Template = vm.spec.template): Vmi {
  const name = vm.metadata.name;
  if (name === undefined) throw new Error("Cannot build the VMI: the VM has no metadata.name");
  const template = structuredClone(expanded);
  const annotations = { ...template.metadata?.annotations, ...instancetypeAnnotations(vm), [templateHashAnnotation]: templateHash(vm) };
  const spec = template.spec;
  const firmware = spec.domain.firmware ?? {};
  if (firmware.uuid === undefined) spec.domain.firmware = { ...firmware, uuid: legacyFirmwareUuid(name) };
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: {
      name,
      ...(vm.metadata.namespace !== undefined ? { namespace: vm.metadata.namespace } : {}),
      ...(template.metadata?.labels !== undefined ? { labels: template.metadata.labels } : {}),
      annotations,
      ownerReferences: [controllerRef(vm)],
      finalizers: [vmControllerFinalizer, vmiFinalizer],
    },
    spec: applyVmiDefaults(spec),
  };
}
