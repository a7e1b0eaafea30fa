import { expect, test } from "bun:test";
import { quantityPattern } from "../quantity.ts";
import { virtualMachineCrd, virtualMachineInstanceCrd } from "./crds.ts";
import { undescribedFields } from "./openapi.ts";

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
  expect(disk.properties.bootOrder).toMatchObject({ type: "integer", minimum: 1, maximum: 4294967295 });
  expect(disk.properties.serial).toMatchObject({ type: "string", pattern: "^[A-Za-z0-9_.+-]+$", maxLength: 256 });
  const devices = at(s, "properties.spec.properties.template.properties.spec.properties.domain.properties.devices.properties");
  expect([devices.disks.maxItems, devices.interfaces.maxItems]).toEqual([256, 256]);
  const mem = at(s, "properties.spec.properties.template.properties.spec.properties.domain.properties.resources.properties.requests.properties.memory");
  expect(mem).toMatchObject({ "x-kubernetes-int-or-string": true, pattern: quantityPattern.source });
  expect(mem.anyOf).toBeUndefined();
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

test("every field of every served version carries a description, down to the leaves", () => {
  const schemas = [...(virtualMachineCrd() as any).spec.versions, ...(virtualMachineInstanceCrd() as any).spec.versions].map((x: any) => x.schema.openAPIV3Schema);
  expect(schemas).toHaveLength(3);
  // metadata at the top may carry nothing but its type (the API server's rule); kubectl explains it as ObjectMeta.
  for (const s of schemas) expect(undescribedFields(s)).toEqual(["metadata"]);
  const spec = at(schemas[0], "properties.spec.properties.template.properties.spec.properties");
  expect(spec.terminationGracePeriodSeconds.description).toMatch(/Default: 30/);
  expect(at(spec, "domain.properties.devices.properties.disks.items.properties.disk.properties.bus.description")).toMatch(/Default: virtio/);
  expect(at(spec, "domain.properties.memory.properties.guest.description")).toMatch(/bytes/);
});

test("constraints valibot checks are in the CRD: enums, patterns, bounds, lengths, required", () => {
  const s = (virtualMachineInstanceCrd() as any).spec.versions[0].schema.openAPIV3Schema;
  const spec = s.properties.spec.properties;
  expect(s.required).toEqual(["spec"]);
  expect(at(spec, "domain.properties.cpu.properties.cores")).toMatchObject({ type: "integer", minimum: 1, maximum: 4096 });
  expect(at(spec, "domain.properties.cpu.properties.model.minLength")).toBe(1);
  expect(at(spec, "domain.properties.devices.properties.interfaces.items.properties.model.enum")).toContain("e1000e");
  expect(at(spec, "domain.properties.devices.properties.interfaces.items.properties.ports.items.properties.port")).toMatchObject({ minimum: 1, maximum: 65535 });
  expect(at(spec, "domain.properties.devices.properties.interfaces.items.properties.name.pattern")).toBe("^[A-Za-z0-9_-]+$");
  expect(at(spec, "volumes.items.properties.containerDisk.properties.image.minLength")).toBe(1);
  expect(at(spec, "volumes.items.properties.containerDisk.required")).toEqual(["image"]);
  expect(at(spec, "volumes.maxItems")).toBe(256);
  expect(at(spec, "terminationGracePeriodSeconds.minimum")).toBe(0);
});
