/**
 * The CustomResourceDefinitions of instancetype.kubevirt.io/v1beta1,
 * generated from the API schemas: VirtualMachineInstancetype and
 * VirtualMachinePreference (namespaced, in `kubectl get all` as KubeVirt's),
 * VirtualMachineClusterInstancetype and VirtualMachineClusterPreference
 * (cluster-wide). KubeVirt's names and short names; v1beta1 served and
 * stored; no status.
 */
import type * as v from "valibot";
import { instancetypeGroup, instancetypeVersion, virtualMachineClusterInstancetype, virtualMachineInstancetype } from "../instancetype/instancetype.ts";
import { virtualMachineClusterPreference, virtualMachinePreference } from "../instancetype/preference.ts";
import { age, crd, rootSchema, type CrdNames } from "./crds.ts";

const cpus = { name: "vCPUs", type: "integer", jsonPath: ".spec.cpu.guest" };
const memory = { name: "Memory", type: "string", jsonPath: ".spec.memory.guest" };

function version(schema: v.GenericSchema, kind: string, about: string, columns: object[]): object {
  return {
    name: instancetypeVersion,
    served: true,
    storage: true,
    additionalPrinterColumns: [...columns, age],
    schema: { openAPIV3Schema: rootSchema(schema, about, `${kind} ${instancetypeVersion}`) },
  };
}

const names = (plural: string, kind: string, shortNames: string[], scope: CrdNames["scope"]): CrdNames => ({
  group: instancetypeGroup, plural, kind, shortNames, scope, categories: scope === "Namespaced" ? ["all"] : [],
});

export function instancetypeCrds(): object[] {
  return [
    crd(names("virtualmachineinstancetypes", "VirtualMachineInstancetype", ["vminstancetype", "vminstancetypes", "vmf", "vmfs"], "Namespaced"), [
      version(virtualMachineInstancetype, "VirtualMachineInstancetype", "A size (vCPUs, memory) the VMs of its namespace can name in spec.instancetype (kind VirtualMachineInstancetype).", [cpus, memory]),
    ]),
    crd(names("virtualmachineclusterinstancetypes", "VirtualMachineClusterInstancetype", ["vmclusterinstancetype", "vmclusterinstancetypes", "vmcf", "vmcfs"], "Cluster"), [
      version(virtualMachineClusterInstancetype, "VirtualMachineClusterInstancetype", "A size (vCPUs, memory) any VM can name in spec.instancetype (the default kind).", [cpus, memory]),
    ]),
    crd(names("virtualmachinepreferences", "VirtualMachinePreference", ["vmpref", "vmprefs", "vmp", "vmps"], "Namespaced"), [
      version(virtualMachinePreference, "VirtualMachinePreference", "Defaults (devices, firmware, clock, CPU topology) the VMs of its namespace can name in spec.preference (kind VirtualMachinePreference).", []),
    ]),
    crd(names("virtualmachineclusterpreferences", "VirtualMachineClusterPreference", ["vmcp", "vmcps"], "Cluster"), [
      version(virtualMachineClusterPreference, "VirtualMachineClusterPreference", "Defaults (devices, firmware, clock, CPU topology) any VM can name in spec.preference (the default kind).", []),
    ]),
  ];
}

/** The file name gen-crds writes a CRD to: its metadata.name. */
export const crdFileName = (c: object): string => `${(c as { metadata: { name: string } }).metadata.name}.yaml`;
