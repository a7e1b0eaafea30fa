import { expect, test } from "bun:test";
import { controllerRef } from "../vmi-from-vm.ts";
import { fedora, foundOf, itVm, small } from "../../../../tests/lib/instancetype-objects.ts";
import { foundSource } from "./found-source.ts";
import { controllerRevisionFor } from "./revision.ts";

const want = { kind: "VirtualMachineClusterInstancetype" as const, name: "u1.small", namespace: "ns1" };

test("without a revision: the object as it is", () => {
  expect(foundSource(foundOf([small()])).instancetype(want)).toEqual({ spec: { cpu: { guest: 2 }, memory: { guest: "2Gi" } } });
  expect(foundSource(foundOf([])).instancetype(want)).toEqual({ problem: 'VirtualMachineClusterInstancetype "u1.small" not found' });
  const bad = { ...small(), spec: { cpu: { guest: 2 } } };
  expect(foundSource(foundOf([bad])).instancetype(want)).toEqual({ problem: expect.stringContaining('VirtualMachineClusterInstancetype "u1.small" cannot be used: memory') });
});

test("with a revision: the revision's copy, never the object", () => {
  const vm = itVm();
  const rev = controllerRevisionFor(vm, controllerRef(vm), small());
  const source = foundSource(foundOf([small({ guest: "8Gi" })], [rev]));
  expect(source.instancetype({ ...want, revisionName: rev.metadata.name })).toEqual({ spec: { cpu: { guest: 2 }, memory: { guest: "2Gi" } } });
  expect(source.instancetype({ ...want, revisionName: "gone" })).toEqual({ problem: expect.stringContaining('ControllerRevision "gone" in namespace "ns1" not found') });
  const pref = controllerRevisionFor(vm, controllerRef(vm), fedora());
  expect(foundSource(foundOf([], [pref])).preference({ kind: "VirtualMachineClusterPreference", name: "fedora", namespace: "ns1", revisionName: pref.metadata.name })).toEqual({ spec: fedora().spec as never });
});
