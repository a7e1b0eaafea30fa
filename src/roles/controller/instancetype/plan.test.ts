import { expect, test } from "bun:test";
import { controllerRef } from "../vmi-from-vm.ts";
import { fedora, foundOf, itVm, small } from "../../../../tests/lib/instancetype-objects.ts";
import { planInstancetypes } from "./plan.ts";
import { controllerRevisionFor } from "./revision.ts";

const itName = "vm1-u1.small-v1beta1-it-uid-1";
const prefName = "vm1-fedora-v1beta1-pref-uid-3";

test("a VM without an instancetype or preference: its own template, nothing stored", () => {
  const vm = itVm({ instancetype: undefined, preference: undefined });
  delete vm.spec.instancetype;
  delete vm.spec.preference;
  expect(planInstancetypes(vm, foundOf([]))).toEqual({ template: vm.spec.template, store: [] });
});

test("first sync: a revision of each is to be stored, the refs name them, the template is expanded from them", () => {
  const plan = planInstancetypes(itVm(), foundOf([small(), fedora()]));
  expect(plan.syncError).toBeUndefined();
  expect(plan.store.map((r) => r.metadata.name)).toEqual([itName, prefName]);
  expect(plan.refs).toEqual({
    instancetypeRef: { name: "u1.small", kind: "VirtualMachineClusterInstancetype", controllerRevisionRef: { name: itName } },
    preferenceRef: { name: "fedora", kind: "VirtualMachineClusterPreference", controllerRevisionRef: { name: prefName } },
  });
  const domain = plan.template!.spec.domain;
  expect(domain.cpu).toMatchObject({ sockets: 2, cores: 1, threads: 1 });
  expect(domain.memory?.guest).toBe("2Gi");
  expect(domain.devices.disks?.[0]?.disk?.bus).toBe("virtio");
});

test("later syncs expand from the stored revisions, not from the objects as they are now", () => {
  const vm = itVm();
  const revs = [controllerRevisionFor(vm, controllerRef(vm), small()), controllerRevisionFor(vm, controllerRef(vm), fedora())];
  const recorded = planInstancetypes(vm, foundOf([small(), fedora()])).refs!;
  // The instancetype was edited since (and even deleted): the VM keeps what it was first expanded with.
  for (const objects of [[small({ guest: "8Gi", generation: 2 }), fedora()], []]) {
    const plan = planInstancetypes(itVm({}, recorded), foundOf(objects, revs));
    expect(plan).toMatchObject({ store: [] });
    expect(plan.refs).toBeUndefined();
    expect(plan.template!.spec.domain.memory?.guest).toBe("2Gi");
  }
});

test("a missing instancetype or preference: its reason, no template, nothing stored", () => {
  expect(planInstancetypes(itVm(), foundOf([fedora()]))).toEqual({
    template: null, store: [], syncError: { reason: "FailedFindInstancetype", message: 'VirtualMachineClusterInstancetype "u1.small" not found' },
  });
  const namespaced = itVm({ preference: { name: "mine", kind: "VirtualMachinePreference" } });
  expect(planInstancetypes(namespaced, foundOf([small()])).syncError).toEqual({ reason: "FailedFindPreference", message: 'VirtualMachinePreference "mine" in namespace "ns1" not found' });
});

test("a recorded revision that is gone, or a VM in conflict with its instancetype: no template, nothing stored", () => {
  const gone = itVm({}, { instancetypeRef: { name: "u1.small", kind: "VirtualMachineClusterInstancetype", controllerRevisionRef: { name: "lost" } } });
  const plan = planInstancetypes(gone, foundOf([small(), fedora()]));
  expect(plan.template).toBeNull();
  expect(plan.syncError?.message).toContain('ControllerRevision "lost" in namespace "ns1" not found');
  const vm = itVm();
  vm.spec.template.spec.domain.cpu = { sockets: 4 };
  const conflict = planInstancetypes(vm, foundOf([small(), fedora()]));
  expect(conflict).toMatchObject({ template: null, store: [], syncError: { reason: "FailedCreate" } });
  expect(conflict.syncError!.message).toContain("spec.template.spec.domain.cpu.sockets");
});

test("a VM being deleted: nothing looked up, no template", () => {
  const vm = itVm();
  vm.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
  expect(planInstancetypes(vm, foundOf([]))).toEqual({ template: null, store: [] });
});

test("a matcher removed from the VM drops its ref", () => {
  const recorded = planInstancetypes(itVm(), foundOf([small(), fedora()])).refs!;
  const vm = itVm({}, recorded);
  delete vm.spec.preference;
  const vmRevs = [controllerRevisionFor(vm, controllerRef(vm), small())];
  const plan = planInstancetypes(vm, foundOf([], vmRevs));
  expect(plan.refs).toEqual({ instancetypeRef: recorded.instancetypeRef, preferenceRef: undefined });
  delete vm.spec.instancetype;
  expect(planInstancetypes(vm, foundOf([])).refs).toEqual({ instancetypeRef: undefined, preferenceRef: undefined });
});
