/** Objects the instancetype tests share: a VM naming u1.small and fedora, and those two as the API server returns them. */
import type { Vm } from "../../src/roles/controller/model.ts";
import type { Found } from "../../src/roles/controller/instancetype/found-source.ts";
import type { InstancetypeObject } from "../../src/roles/controller/instancetype/revision.ts";

export const small = (over: Partial<{ guest: string; generation: number }> = {}): InstancetypeObject => ({
  apiVersion: "instancetype.kubevirt.io/v1beta1",
  kind: "VirtualMachineClusterInstancetype",
  metadata: { name: "u1.small", uid: "it-uid", generation: over.generation ?? 1, resourceVersion: "7", labels: { a: "b" }, managedFields: [{}] },
  spec: { cpu: { guest: 2 }, memory: { guest: over.guest ?? "2Gi" } },
});

export const fedora = (): InstancetypeObject => ({
  apiVersion: "instancetype.kubevirt.io/v1beta1",
  kind: "VirtualMachineClusterPreference",
  metadata: { name: "fedora", uid: "pref-uid", generation: 3 },
  spec: { devices: { preferredDiskBus: "virtio", preferredInterfaceModel: "virtio" }, machine: { preferredMachineType: "pc-q35-7.2" } },
});

export const itVm = (over: Partial<Vm["spec"]> = {}, status?: Vm["status"]): Vm => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name: "vm1", namespace: "ns1", uid: "vm-uid" },
  spec: {
    runStrategy: "Always",
    instancetype: { name: "u1.small" },
    preference: { name: "fedora" },
    template: { spec: { domain: { devices: { disks: [{ name: "root" }] } }, volumes: [{ name: "root", containerDisk: { image: "cirros" } }] } },
    ...over,
  },
  ...(status !== undefined ? { status } : {}),
});

/** A Found holding `objects` (by kind and name) and `revisions` (by name). */
export function foundOf(objects: InstancetypeObject[], revisions: { metadata: { name: string }; data: unknown }[] = []): Found {
  return {
    object: (kind, _ns, name) => objects.find((o) => o.kind === kind && o.metadata.name === name),
    revision: (_ns, name) => revisions.find((r) => r.metadata.name === name),
  };
}
