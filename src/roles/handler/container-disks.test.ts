import { expect, test } from "bun:test";
import type { Vmi } from "../controller/model.ts";
import { pinImages, unpinnedImages } from "./container-disks.ts";

const vmi: Vmi = {
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name: "vm1", namespace: "ns" },
  spec: {
    domain: { devices: {}, memory: { guest: "64M" } },
    volumes: [
      { name: "a", containerDisk: { image: "kubevirt/cirros-registry-disk-demo:devel" } },
      { name: "b", containerDisk: { image: "x/y@sha256:" + "1".repeat(64) } },
      { name: "c", cloudInitNoCloud: { userData: "#cloud-config\n" } },
    ],
  },
};

test("only images without a digest are pulled, each once", () => {
  expect(unpinnedImages(vmi)).toEqual(["kubevirt/cirros-registry-disk-demo:devel"]);
});

test("pulled images are pinned to their digest; the VMI given is not changed", () => {
  const d = "sha256:" + "a".repeat(64);
  const pinned = pinImages(vmi, new Map([["kubevirt/cirros-registry-disk-demo:devel", d]]));
  expect(pinned.spec.volumes?.[0]?.containerDisk?.image).toBe(`kubevirt/cirros-registry-disk-demo:devel@${d}`);
  expect(pinned.spec.volumes?.[1]?.containerDisk?.image).toBe("x/y@sha256:" + "1".repeat(64));
  expect(vmi.spec.volumes?.[0]?.containerDisk?.image).toBe("kubevirt/cirros-registry-disk-demo:devel");
});
