/**
 * A dataVolumeTemplate's PersistentVolumeClaim, as CDI makes it for a
 * DataVolume when bunvirt imports without CDI: named after the template,
 * in the VM's namespace, owned by the VM (deleting the VM deletes it, as
 * KubeVirt's DataVolumes are), with CDI's defaults — ReadWriteOnce,
 * Filesystem — for what `storage` leaves out. With `storage` in Filesystem
 * mode the claim also asks for CDI's filesystem overhead (5.5%), so the
 * disk of the requested size fits on the volume; `pvc` is taken as given.
 */
import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import type { DataVolumeTemplate } from "../../../api/v1/data-volume.ts";
import type { Vm } from "../model.ts";
import { controllerRef } from "../vmi-from-vm.ts";
import { templateSize } from "../../../storage/import/index.ts";

/** CDI's default filesystem overhead: the part of a Filesystem volume its file system takes. */
export const filesystemOverhead = 0.055;
/** Set on claims bunvirt made for a template (CDI's content type annotation). */
export const contentTypeAnnotation = "cdi.kubevirt.io/storage.contentType";
/** The label that tells a DataVolume's claim, as CDI sets it. */
export const claimAppLabel = { app: "containerized-data-importer" } as const;

const MiB = 2 ** 20;

/** The claim's requested bytes: the disk's, plus the overhead for `storage` in Filesystem mode, in whole MiB. */
export function claimBytes(t: DataVolumeTemplate): number {
  const disk = templateSize(t);
  const fs = (t.spec.storage?.volumeMode ?? "Filesystem") === "Filesystem";
  const bytes = t.spec.storage !== undefined && fs ? disk / (1 - filesystemOverhead) : disk;
  return Math.ceil(bytes / MiB) * MiB;
}

export function claimFromTemplate(vm: Vm, t: DataVolumeTemplate): V1PersistentVolumeClaim {
  const given = t.spec.storage ?? t.spec.pvc ?? {};
  const limits = given.resources?.limits?.storage;
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: t.metadata.name,
      namespace: vm.metadata.namespace ?? "default",
      labels: { ...(t.metadata.labels ?? {}), ...claimAppLabel },
      annotations: { ...(t.metadata.annotations ?? {}), [contentTypeAnnotation]: "kubevirt" },
      ownerReferences: [controllerRef({ apiVersion: vm.apiVersion ?? "kubevirt.io/v1", kind: "VirtualMachine", metadata: vm.metadata })],
    },
    spec: {
      accessModes: [...(given.accessModes ?? ["ReadWriteOnce"])],
      volumeMode: given.volumeMode ?? "Filesystem",
      resources: {
        requests: { storage: `${claimBytes(t) / MiB}Mi` },
        ...(limits !== undefined ? { limits: { storage: String(limits) } } : {}),
      },
      ...(given.storageClassName !== undefined ? { storageClassName: given.storageClassName } : {}),
      ...(given.volumeName !== undefined ? { volumeName: given.volumeName } : {}),
      ...(given.selector !== undefined ? { selector: structuredClone(given.selector) } : {}),
    },
  };
}
