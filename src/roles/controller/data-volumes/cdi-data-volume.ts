/**
 * A dataVolumeTemplate as the `cdi.kubevirt.io/v1beta1` DataVolume KubeVirt
 * creates for it when CDI is installed: the template's name, labels,
 * annotations and spec, in the VM's namespace, owned by the VM.
 */
import type { DataVolumeTemplate } from "../../../api/v1/data-volume.ts";
import type { Vm } from "../model.ts";
import { controllerRef } from "../vmi-from-vm.ts";

export const dataVolumeResource = { group: "cdi.kubevirt.io", version: "v1beta1", plural: "datavolumes", statusSubresource: true } as const;

export interface CdiDataVolume {
  apiVersion: "cdi.kubevirt.io/v1beta1";
  kind: "DataVolume";
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences: ReturnType<typeof controllerRef>[] };
  spec: DataVolumeTemplate["spec"];
}

export function cdiDataVolume(vm: Vm, t: DataVolumeTemplate): CdiDataVolume {
  return {
    apiVersion: "cdi.kubevirt.io/v1beta1",
    kind: "DataVolume",
    metadata: {
      name: t.metadata.name,
      namespace: vm.metadata.namespace ?? "default",
      ...(t.metadata.labels !== undefined ? { labels: { ...t.metadata.labels } } : {}),
      ...(t.metadata.annotations !== undefined ? { annotations: { ...t.metadata.annotations } } : {}),
      ownerReferences: [controllerRef({ apiVersion: vm.apiVersion ?? "kubevirt.io/v1", kind: "VirtualMachine", metadata: vm.metadata })],
    },
    spec: structuredClone(t.spec),
  };
}
