import { expect, test } from "bun:test";
import { instancetypeKindOf } from "../../../api/instancetype/matcher.ts";
import { controllerRef } from "../vmi-from-vm.ts";
import { itVm, small } from "../../../../tests/lib/instancetype-objects.ts";
import { controllerRevisionFor, revisionName, sameRevisionData, specOfRevision, syncStatusRef } from "./revision.ts";

test("a revision is named, labelled and owned as KubeVirt's; its data is the object without labels, owners or managed fields", () => {
  const vm = itVm();
  const rev = controllerRevisionFor(vm, controllerRef(vm), small());
  expect(rev.metadata.name).toBe("vm1-u1.small-v1beta1-it-uid-1");
  expect(rev.metadata.namespace).toBe("ns1");
  expect(rev.metadata.ownerReferences).toEqual([{ apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", name: "vm1", uid: "vm-uid", controller: true, blockOwnerDeletion: true }]);
  expect(rev.metadata.labels).toEqual({
    "instancetype.kubevirt.io/object-generation": "1",
    "instancetype.kubevirt.io/object-kind": "VirtualMachineClusterInstancetype",
    "instancetype.kubevirt.io/object-name": "u1.small",
    "instancetype.kubevirt.io/object-uid": "it-uid",
    "instancetype.kubevirt.io/object-version": "v1beta1",
  });
  expect(rev.data.metadata).toEqual({ name: "u1.small", uid: "it-uid", generation: 1, resourceVersion: "7" });
  expect(rev.data.spec).toEqual(small().spec);
  // A new generation of the object is another revision.
  expect(revisionName("vm1", small({ generation: 2 }))).toBe("vm1-u1.small-v1beta1-it-uid-2");
});

test("an existing revision is the same when it holds the same spec", () => {
  const vm = itVm();
  const rev = controllerRevisionFor(vm, controllerRef(vm), small());
  expect(sameRevisionData(rev, { data: { spec: { cpu: { guest: 2 }, memory: { guest: "2Gi" } } } })).toBe(true);
  expect(sameRevisionData(rev, { data: { spec: { cpu: { guest: 2 }, memory: { guest: "4Gi" } } } })).toBe(false);
});

test("a revision's spec is checked: the right family, a spec the schema takes", () => {
  const vm = itVm();
  const rev = controllerRevisionFor(vm, controllerRef(vm), small());
  expect(specOfRevision(rev, "instancetype")).toEqual({ spec: { cpu: { guest: 2 }, memory: { guest: "2Gi" } } });
  expect(specOfRevision(rev, "preference")).toEqual({ problem: expect.stringContaining('ControllerRevision "vm1-u1.small-v1beta1-it-uid-1" does not hold an instancetype.kubevirt.io/v1beta1 VirtualMachinePreference or VirtualMachineClusterPreference') });
  const bad = { ...rev, data: { ...rev.data, spec: { cpu: { guest: 0 }, memory: { guest: "2Gi" } } } };
  expect(specOfRevision(bad, "instancetype")).toEqual({ problem: expect.stringContaining("cpu.guest") });
  expect(specOfRevision({ metadata: { name: "x" }, data: { apiVersion: "apps/v1", kind: "Deployment" } }, "instancetype")).toEqual({ problem: expect.stringContaining("it holds apps/v1 Deployment") });
});

test("status refs follow the matcher (KubeVirt's syncStatusWithMatcher)", () => {
  // First sync: nothing recorded.
  expect(syncStatusRef({ name: "u1.small" }, undefined, instancetypeKindOf)).toEqual({ ref: { name: "u1.small", kind: "VirtualMachineClusterInstancetype" }, needsRevision: true });
  const recorded = { name: "u1.small", kind: "VirtualMachineClusterInstancetype", controllerRevisionRef: { name: "r1" } };
  // Same name, the kind spelled otherwise: kept.
  expect(syncStatusRef({ name: "u1.small", kind: "virtualmachineclusterinstancetypes" }, recorded, instancetypeKindOf)).toEqual({ ref: recorded, needsRevision: false });
  // Another name or kind: the revision is dropped.
  expect(syncStatusRef({ name: "u1.large" }, recorded, instancetypeKindOf)).toEqual({ ref: { name: "u1.large", kind: "VirtualMachineClusterInstancetype" }, needsRevision: true });
  expect(syncStatusRef({ name: "u1.small", kind: "VirtualMachineInstancetype" }, recorded, instancetypeKindOf).needsRevision).toBe(true);
  // The matcher's revisionName wins.
  expect(syncStatusRef({ name: "u1.small", revisionName: "r2" }, recorded, instancetypeKindOf)).toEqual({ ref: { ...recorded, controllerRevisionRef: { name: "r2" } }, needsRevision: false });
});
