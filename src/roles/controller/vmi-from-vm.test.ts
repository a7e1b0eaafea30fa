import { expect, test } from "bun:test";
import type { Vm } from "./model.ts";
import { vmiFinalizer } from "./reconcile-vmi.ts";
import { templateHash, templateHashAnnotation } from "./restart-required.ts";
import { legacyFirmwareUuid, uuidV5, vmControllerFinalizer, vmiFromVm } from "./vmi-from-vm.ts";

const vm = (): Vm => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name: "testvm", namespace: "ns1", uid: "vm-uid", labels: { app: "not-copied" } },
  spec: {
    runStrategy: "Always",
    template: {
      metadata: { labels: { "kubevirt.io/size": "small" }, annotations: { note: "x" } },
      spec: { domain: { devices: { disks: [{ name: "root" }] }, memory: { guest: "64M" } }, volumes: [{ name: "root", containerDisk: { image: "cirros" } }] },
    },
  },
});

test("uuidV5 matches RFC 4122's example (DNS namespace, python.org)", () => {
  expect(uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org")).toBe("886313e1-3b8a-5372-9b90-0c9aee199e5d");
});

test("the VMI is named after the VM, owned by it, with the template's metadata and spec", () => {
  const vmi = vmiFromVm(vm());
  expect(vmi.metadata.annotations?.[templateHashAnnotation]).toBe(templateHash(vm()));
  expect(vmi.metadata).toEqual({
    name: "testvm",
    namespace: "ns1",
    labels: { "kubevirt.io/size": "small" },
    annotations: { note: "x", [templateHashAnnotation]: templateHash(vm()) },
    ownerReferences: [{ apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", name: "testvm", uid: "vm-uid", controller: true, blockOwnerDeletion: true }],
    finalizers: [vmControllerFinalizer, vmiFinalizer],
  });
  expect(vmi.spec.volumes).toEqual([{ name: "root", containerDisk: { image: "cirros" } }]);
  // KubeVirt's VMI defaults, as the mutating webhook would set them.
  expect(vmi.spec.domain.devices.disks).toEqual([{ name: "root", disk: { bus: "virtio" } }]);
  expect(vmi.spec.networks).toEqual([{ name: "default", pod: {} }]);
  expect(vmi.spec.domain.memory).toEqual({ guest: "64M" });
});

test("a stable firmware UUID from the VM's name unless the template sets one", () => {
  const a = vmiFromVm(vm()).spec.domain.firmware?.uuid;
  expect(a).toBe(legacyFirmwareUuid("testvm"));
  expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const v = vm();
  v.spec.template.spec.domain.firmware = { uuid: "11111111-2222-3333-4444-555555555555" };
  expect(vmiFromVm(v).spec.domain.firmware?.uuid).toBe("11111111-2222-3333-4444-555555555555");
});

test("the VM is not modified, and a VM without a uid cannot own a VMI", () => {
  const v = vm();
  vmiFromVm(v);
  expect(v).toEqual(vm());
  delete v.metadata.uid;
  expect(() => vmiFromVm(v)).toThrow('metadata.uid "undefined"');
});

test("a VM naming an instancetype and a preference: the VMI is made from the expanded template and carries KubeVirt's annotations", () => {
  const v = vm();
  v.spec.instancetype = { name: "u1.small" };
  v.spec.preference = { name: "mine", kind: "VirtualMachinePreference" };
  const expanded = structuredClone(v.spec.template);
  expanded.spec.domain.memory = { guest: "2Gi" };
  const vmi = vmiFromVm(v, expanded);
  expect(vmi.spec.domain.memory).toEqual({ guest: "2Gi" });
  expect(vmi.metadata.annotations).toEqual({ note: "x", "kubevirt.io/cluster-instancetype-name": "u1.small", "kubevirt.io/preference-name": "mine", [templateHashAnnotation]: templateHash(v) });
  v.spec.instancetype = { name: "ns-size", kind: "virtualmachineinstancetype" };
  v.spec.preference = { name: "fedora" };
  expect(vmiFromVm(v).metadata.annotations).toEqual({ note: "x", "kubevirt.io/instancetype-name": "ns-size", "kubevirt.io/cluster-preference-name": "fedora", [templateHashAnnotation]: templateHash(v) });
});
