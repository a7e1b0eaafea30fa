import { expect, test } from "bun:test";
import { virtualMachineCrd, virtualMachineInstanceCrd } from "./crds.ts";

const at = (o: any, path: string): any => path.split(".").reduce((x, k) => x?.[k], o);

test("VM CRD: versions, names, columns, status subresource", () => {
  const c = virtualMachineCrd() as any;
  expect(c.metadata.name).toBe("virtualmachines.kubevirt.io");
  expect(c.spec.names.shortNames).toEqual(["vm"]);
  expect(c.spec.names.categories).toEqual(["all"]);
  expect(c.spec.versions.map((x: any) => [x.name, x.storage])).toEqual([["v1", true], ["v1alpha1", false]]);
  const v1 = c.spec.versions[0];
  expect(v1.subresources).toEqual({ status: {} });
  expect(v1.additionalPrinterColumns.map((x: any) => x.name)).toEqual(["Age", "Status", "Ready"]);
  const s = v1.schema.openAPIV3Schema;
  expect(s.properties.metadata).toEqual({ type: "object" });
  expect(at(s, "properties.spec.properties.runStrategy.enum")).toContain("RerunOnFailure");
  const disk = at(s, "properties.spec.properties.template.properties.spec.properties.domain.properties.devices.properties.disks.items");
  expect(disk.required).toEqual(["name"]);
  expect(disk.properties.bootOrder).toEqual({ type: "integer", minimum: 1, maximum: 4294967295 });
  expect(disk.properties.serial).toEqual({ type: "string", pattern: "^[A-Za-z0-9_.+-]+$", maxLength: 256 });
  const devices = at(s, "properties.spec.properties.template.properties.spec.properties.domain.properties.devices.properties");
  expect([devices.disks.maxItems, devices.interfaces.maxItems]).toEqual([256, 256]);
  const mem = at(s, "properties.spec.properties.template.properties.spec.properties.domain.properties.resources.properties.requests.properties.memory");
  expect(mem).toEqual({ "x-kubernetes-int-or-string": true });
  const alpha = c.spec.versions[1].schema.openAPIV3Schema;
  expect(at(alpha, "properties.spec.properties.volumes.items.properties.registryDisk.required")).toEqual(["image"]);
});

test("VMI CRD: columns and short name; no status subresource (KubeVirt's: labels and status in one write)", () => {
  const c = virtualMachineInstanceCrd() as any;
  expect(c.spec.versions[0].subresources).toBeUndefined();
  expect(c.spec.names.shortNames).toEqual(["vmi"]);
  expect(c.spec.versions[0].additionalPrinterColumns.map((x: any) => x.name)).toEqual(["Age", "Phase", "IP", "NodeName", "Ready"]);
  expect(at(c.spec.versions[0].schema.openAPIV3Schema, "properties.status.x-kubernetes-preserve-unknown-fields")).toBe(true);
});
