import { expect, test } from "bun:test";
import { crdFileName, instancetypeCrds } from "./instancetype-crds.ts";
import { undescribedFields } from "./openapi.ts";

const at = (o: any, path: string): any => path.split(".").reduce((x, k) => x?.[k], o);

test("the four instancetype.kubevirt.io CRDs: KubeVirt's names, short names and scopes; v1beta1 served and stored", () => {
  const crds = instancetypeCrds() as any[];
  expect(crds.map((c) => [c.metadata.name, c.spec.scope, c.spec.names.shortNames[0]])).toEqual([
    ["virtualmachineinstancetypes.instancetype.kubevirt.io", "Namespaced", "vminstancetype"],
    ["virtualmachineclusterinstancetypes.instancetype.kubevirt.io", "Cluster", "vmclusterinstancetype"],
    ["virtualmachinepreferences.instancetype.kubevirt.io", "Namespaced", "vmpref"],
    ["virtualmachineclusterpreferences.instancetype.kubevirt.io", "Cluster", "vmcp"],
  ]);
  expect(crds.map(crdFileName)).toEqual(crds.map((c) => `${c.metadata.name}.yaml`));
  for (const c of crds) {
    expect(c.spec.versions.map((x: any) => [x.name, x.served, x.storage])).toEqual([["v1beta1", true, true]]);
    expect(undescribedFields(c.spec.versions[0].schema.openAPIV3Schema)).toEqual(["metadata"]);
  }
  const it = crds[0].spec.versions[0];
  expect(it.additionalPrinterColumns.map((x: any) => x.name)).toEqual(["vCPUs", "Memory", "Age"]);
  expect(at(it.schema.openAPIV3Schema, "properties.spec.properties.cpu.properties.guest")).toMatchObject({ type: "integer", minimum: 1 });
  expect(at(it.schema.openAPIV3Schema, "properties.spec.required")).toEqual(["cpu", "memory"]);
});
