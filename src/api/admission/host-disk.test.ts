import { expect, test } from "bun:test";
import { alphaToV1, v1ToAlpha } from "../convert/v1alpha1.ts";
import { validate } from "../validate.ts";
import type { VmiSpec } from "../v1/vmi.ts";
import { checkHostDisks } from "./host-disk.ts";

type HostDisk = NonNullable<NonNullable<VmiSpec["volumes"]>[number]["hostDisk"]>;
const spec = (hostDisk: HostDisk): VmiSpec => ({ domain: { devices: { disks: [{ name: "hd", disk: {} }] } }, volumes: [{ name: "hd", hostDisk }] });
const at = "spec.volumes[0].hostDisk";

test("a Disk with a path, and a DiskOrCreate with a capacity, pass", () => {
  expect(checkHostDisks(spec({ path: "/var/lib/disks/vm1.img", type: "Disk" }), "spec")).toEqual([]);
  expect(checkHostDisks(spec({ path: "/srv/vms/alice/vm1.img", type: "DiskOrCreate", capacity: "1Gi", shared: false }), "spec")).toEqual([]);
});

test("paths that are relative, climb, hold . or //, end in /, or sit in / are refused at the path", () => {
  const cases: [string, RegExp][] = [
    ["disk.img", /must be an absolute path/],
    ["/srv/vms/../../etc/shadow", /must not hold "\." or "\.\." segments/],
    ["/srv/vms/./x.img", /must not hold "\." or "\.\." segments/],
    ["/srv//vms/x.img", /must not hold empty segments/],
    ["/srv/vms/", /must not hold empty segments/],
    ["/disk.img", /must name a file in a directory below "\/"/],
    ["/", /must not hold empty segments/],
    [`/srv/${"a".repeat(256)}`, /longer than a file name may be/],
  ];
  for (const [path, rule] of cases) {
    const problems = checkHostDisks(spec({ path, type: "Disk" }), "spec");
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe(`${at}.path`);
    expect(problems[0]!.rule).toMatch(rule);
  }
});

test("capacity: refused with Disk, required with DiskOrCreate, positive and at most 2Pi", () => {
  expect(checkHostDisks(spec({ path: "/d/x.img", type: "Disk", capacity: "1Gi" }), "spec")).toEqual([{ path: `${at}.capacity`, rule: 'is allowed only with type "DiskOrCreate" (a "Disk" is used at the size it has)' }]);
  expect(checkHostDisks(spec({ path: "/d/x.img", type: "DiskOrCreate" }), "spec")).toEqual([{ path: `${at}.capacity`, rule: 'is required with type "DiskOrCreate": the size of the file to create when it is missing' }]);
  expect(checkHostDisks(spec({ path: "/d/x.img", type: "DiskOrCreate", capacity: "0" }), "spec")[0]!.rule).toBe('"0" is not a positive size');
  expect(checkHostDisks(spec({ path: "/d/x.img", type: "DiskOrCreate", capacity: "3Pi" }), "spec")[0]!.rule).toMatch(/is more than 2Pi/);
});

test("through validate: the type picklist and the schema name the field; a good hostDisk VMI is valid", () => {
  const vmi = (hostDisk: unknown): unknown => ({
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: { name: "hd" },
    spec: { domain: { devices: { disks: [{ name: "hd", disk: {} }] }, memory: { guest: "64Mi" } }, volumes: [{ name: "hd", hostDisk }] },
  });
  expect(validate(vmi({ path: "/d/x.img", type: "DiskOrCreate", capacity: "1Gi" })).ok).toBe(true);
  const bad = validate(vmi({ path: "/d/x.img", type: "Directory" }));
  expect(bad.ok).toBe(false);
  if (!bad.ok) expect(bad.problems.map((p) => p.path)).toContain("spec.volumes[0].hostDisk.type");
  const extra = validate(vmi({ path: "/d/x.img", type: "Disk", mode: "0777" }));
  expect(extra.ok).toBe(false);
  const climbing = validate(vmi({ path: "/d/../etc/x", type: "Disk" }));
  expect(climbing.ok ? [] : climbing.problems).toEqual([{ path: "spec.volumes[0].hostDisk.path", rule: '"/d/../etc/x" must not hold "." or ".." segments' }]);
});

test("a v1 VM with a hostDisk converts to v1alpha1 (which bunvirt lets carry one) and back unchanged", () => {
  const vm = {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name: "hdvm" },
    spec: {
      runStrategy: "Always",
      template: { spec: { domain: { memory: { guest: "64Mi" }, devices: { disks: [{ name: "hd" }] } }, volumes: [{ name: "hd", hostDisk: { path: "/srv/vms/x.img", type: "DiskOrCreate", capacity: "1Gi" } }] } },
    },
  };
  const alpha = v1ToAlpha(structuredClone(vm));
  expect(validate(alpha).ok).toBe(true);
  expect(alphaToV1(alpha)).toEqual(vm);
});
