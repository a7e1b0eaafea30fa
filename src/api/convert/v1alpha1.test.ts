import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parseManifests } from "../manifest.ts";
import { validate } from "../validate.ts";
import { alphaVm, v1Vm } from "../../../tests/lib/api-arbitraries.ts";
import { alphaToV1, v1ToAlpha } from "./v1alpha1.ts";

const seedPath = new URL("../../../examples/vm-v1alpha1.yaml", import.meta.url).pathname;

function mustValidate(obj: unknown): void {
  const r = validate(obj);
  expect(r.ok ? [] : r.problems).toEqual([]);
}

describe("v1alpha1 <-> v1", () => {
  test("the seed manifest converts to a valid v1 VM that runs, and back unchanged", async () => {
    const [seed] = parseManifests(await Bun.file(seedPath).text());
    const v1 = alphaToV1(seed!.value as object) as any;
    mustValidate(v1);
    expect(v1.spec.runStrategy).toBe("Always");
    expect(v1.spec.template.spec.volumes[0]).toEqual({ name: "registrydisk", containerDisk: { image: "kubevirt/cirros-registry-disk-demo:devel" } });
    expect(v1.spec.template.spec.terminationGracePeriodSeconds).toBe(5);
    expect(v1ToAlpha(v1)).toEqual(seed!.value as object);
  });

  test("property: v1alpha1 -> v1 -> v1alpha1 is lossless, and the v1 form is valid", () => {
    fc.assert(
      fc.property(alphaVm, (alpha) => {
        mustValidate(alpha);
        const v1 = alphaToV1(alpha);
        mustValidate(v1);
        expect(v1ToAlpha(v1)).toEqual(alpha);
      }),
      { numRuns: 300 },
    );
  });

  test("property: v1 -> v1alpha1 -> v1 is lossless, and the v1alpha1 form is valid", () => {
    fc.assert(
      fc.property(v1Vm, (vm) => {
        mustValidate(vm);
        const alpha = v1ToAlpha(vm);
        mustValidate(alpha);
        expect(alphaToV1(alpha)).toEqual(vm);
      }),
      { numRuns: 300 },
    );
  });

  test("a v1 volume without a disk gets KubeVirt's default disk in v1alpha1 (which needs one per volume), and comes back diskless", () => {
    const vm = {
      apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", metadata: { name: "d" },
      spec: { runStrategy: "Always", template: { spec: { domain: { devices: { disks: [{ name: "root", disk: { bus: "sata" } }] }, resources: { requests: { memory: "64Mi" } } },
        volumes: [{ name: "root", containerDisk: { image: "r/x" } }, { name: "ci", cloudInitNoCloud: { userData: "#cloud-config" } }] } } },
    };
    mustValidate(vm);
    const alpha = v1ToAlpha(vm) as any;
    mustValidate(alpha);
    expect(alpha.spec.domain.devices.disks).toEqual([{ name: "root", disk: { bus: "sata" }, volumeName: "root" }, { name: "ci", volumeName: "ci", disk: { bus: "virtio" } }]);
    expect(alphaToV1(alpha)).toEqual(vm);
    // No disks at all.
    const bare = structuredClone(vm);
    bare.spec.template.spec.domain.devices = {} as typeof vm.spec.template.spec.domain.devices;
    const alpha2 = v1ToAlpha(bare) as any;
    mustValidate(alpha2);
    expect(alpha2.spec.domain.devices.disks.map((d: any) => d.name)).toEqual(["root", "ci"]);
    expect(alphaToV1(alpha2)).toEqual(bare);
  });

  test("a v1 edit after conversion is not undone by the kept annotation", async () => {
    const [seed] = parseManifests(await Bun.file(seedPath).text());
    const v1 = alphaToV1(seed!.value as object) as any;
    v1.spec.template.spec.domain.devices.disks.push({ name: "scratch", disk: { bus: "virtio" } });
    v1.spec.template.spec.volumes.push({ name: "scratch", emptyDisk: { capacity: "1Gi" } });
    const alpha = v1ToAlpha(v1) as any;
    mustValidate(alpha);
    expect(alpha.spec.domain.devices.disks.map((d: any) => `${d.name}->${d.volumeName}`)).toEqual([
      "registrydisk->registryvolume",
      "cloudinitdisk->cloudinitvolume",
      "scratch->scratch",
    ]);
  });
});
