import { expect, test } from "bun:test";
import { controllerRef } from "../vmi-from-vm.ts";
import { fedora, foundOf, itVm, small } from "../../../../tests/lib/instancetype-objects.ts";
import type { VirtualMachine } from "../../../api/v1/vm.ts";
import { admitVmWithInstancetypes, preferredMachineType } from "./admit-vm.ts";
import { controllerRevisionFor } from "./revision.ts";

const both = { found: foundOf([small(), fedora()]), warnings: [] };
const withCpu = (cpu: object) => {
  const vm = itVm();
  vm.spec.template.spec.domain.cpu = cpu;
  return vm;
};

test("a VM that fits what it names is admitted as expanded", () => {
  expect(admitVmWithInstancetypes(itVm(), both)).toEqual({ ok: true, warnings: [] });
});

test("a field the instancetype sets too is refused, naming it", () => {
  const r = admitVmWithInstancetypes(withCpu({ sockets: 4 }), both);
  expect(r.ok).toBe(false);
  expect(!r.ok && r.problems.map((p) => p.path)).toContain("spec.template.spec.domain.cpu.sockets");
  const mem = itVm();
  mem.spec.template.spec.domain.memory = { guest: "1Gi" };
  expect(!admitVmWithInstancetypes(mem, both).ok).toBe(true);
});

test("a missing instancetype admits the VM with a warning (KubeVirt ignores a failed lookup here); its schema and metadata are still checked", () => {
  const r = admitVmWithInstancetypes(itVm(), { found: foundOf([fedora()]), warnings: [] });
  expect(r).toEqual({ ok: true, warnings: [expect.stringContaining('VirtualMachineClusterInstancetype "u1.small" not found: the VirtualMachine is admitted')] });
  expect(admitVmWithInstancetypes({ ...itVm(), spec: { ...itVm().spec, bogus: 1 } }, { found: foundOf([]), warnings: [] }).ok).toBe(false);
  const badName = itVm();
  badName.metadata.name = "Not_A_Name";
  expect(admitVmWithInstancetypes(badName, { found: foundOf([]), warnings: [] }).ok).toBe(false);
});

test("a missing preference: checked against the instancetype alone", () => {
  const r = admitVmWithInstancetypes(withCpu({ sockets: 4 }), { found: foundOf([small()]), warnings: [] });
  expect(!r.ok && r.problems.map((p) => p.path)).toContain("spec.template.spec.domain.cpu.sockets");
  expect(admitVmWithInstancetypes(itVm(), { found: foundOf([small()]), warnings: ["x"] })).toEqual({ ok: true, warnings: ["x", expect.stringContaining('VirtualMachineClusterPreference "fedora" not found')] });
});

test("a VM with recorded revisions is checked against them, not against the edited instancetype; a ref of another name is not used", () => {
  const vm = itVm();
  const rev = controllerRevisionFor(vm, controllerRef(vm), small());
  const status = { instancetypeRef: { name: "u1.small", kind: "VirtualMachineClusterInstancetype", controllerRevisionRef: { name: rev.metadata.name } } };
  // The object now sets 4 GiB; the VM's copy sets 2 GiB; the VM's own cpu.sockets conflicts with either.
  const fetched = { found: foundOf([small({ guest: "4Gi" }), fedora()], [rev]), warnings: [] };
  expect(admitVmWithInstancetypes(itVm({}, status), fetched)).toEqual({ ok: true, warnings: [] });
  // Renamed to another instancetype: its ref no longer counts, the new one is looked up (missing here).
  const renamed = itVm({ instancetype: { name: "u1.large" } }, status);
  expect(admitVmWithInstancetypes(renamed, fetched)).toEqual({ ok: true, warnings: [expect.stringContaining('"u1.large" not found')] });
});

test("the preference's machine type is the mutating webhook's default", () => {
  expect(preferredMachineType(itVm() as VirtualMachine, both)).toBe("pc-q35-7.2");
  expect(preferredMachineType(itVm() as VirtualMachine, { found: foundOf([]), warnings: [] })).toBeUndefined();
});
