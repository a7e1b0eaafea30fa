/** The CustomResourceDefinitions bunvirt serves, generated from the API schemas. */
import { virtualMachineV1alpha1 } from "../v1alpha1/vm.ts";
import { virtualMachine } from "../v1/vm.ts";
import { virtualMachineInstance } from "../v1/vmi.ts";
import { group } from "../kinds.ts";
import { requireDescriptions, toOpenApi, type OpenApi } from "./openapi.ts";
import type * as v from "valibot";

/** apiVersion, kind and metadata at the top belong to the API server: the schema only names their types. */
const serverFields: Record<string, OpenApi> = {
  apiVersion: { type: "string", description: "The group and version this object is written in, such as kubevirt.io/v1; the API server converts between the versions it serves." },
  kind: { type: "string", description: "The type of object this is, in CamelCase, such as VirtualMachine." },
  // The API server forbids anything but a type here (it explains metadata itself, as ObjectMeta).
  metadata: { type: "object" },
};

/** The whole object's schema; refused when a field has no description. */
export function rootSchema(schema: v.GenericSchema, description: string, what: string): OpenApi {
  const s = toOpenApi(schema);
  const required = (s.required ?? []).filter((k) => !(k in serverFields));
  return requireDescriptions({ ...s, description, required, properties: { ...s.properties, ...serverFields } }, what, ["metadata"]);
}

export const age = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };
const ready = { name: "Ready", type: "string", jsonPath: ".status.conditions[?(@.type=='Ready')].status" };

export interface CrdNames {
  group: string;
  plural: string;
  kind: string;
  shortNames: string[];
  scope: "Namespaced" | "Cluster";
  /** Default: ["all"] (`kubectl get all` lists them). */
  categories?: string[];
}

export function crd(names: CrdNames, versions: object[], conversion?: object): object {
  const { group: g, plural, kind, shortNames, scope } = names;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${g}`, labels: { "app.kubernetes.io/part-of": "bunvirt" } },
    spec: {
      group: g,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames, categories: names.categories ?? ["all"] },
      scope,
      ...(conversion !== undefined ? { conversion } : {}),
      versions,
    },
  };
}

export function virtualMachineCrd(): object {
  const columns = [age, { name: "Status", type: "string", jsonPath: ".status.printableStatus" }, ready];
  const version = (name: string, storage: boolean, schema: v.GenericSchema, about: string) => ({
    name,
    served: true,
    storage,
    subresources: { status: {} },
    additionalPrinterColumns: columns,
    schema: { openAPIV3Schema: rootSchema(schema, about, `VirtualMachine ${name}`) },
  });
  return crd(
    { group, plural: "virtualmachines", kind: "VirtualMachine", shortNames: ["vm"], scope: "Namespaced" },
    [
      version("v1", true, virtualMachine, "A virtual machine that can be started and stopped; it runs as a VirtualMachineInstance."),
      version("v1alpha1", false, virtualMachineV1alpha1, "A virtual machine in the original v1alpha1 form (spec.domain and spec.volumes)."),
    ],
    {
      strategy: "Webhook",
      webhook: {
        conversionReviewVersions: ["v1"],
        clientConfig: { service: { namespace: "bunvirt", name: "bunvirt-controller", path: "/conversion", port: 443 } },
      },
    },
  );
}

export function virtualMachineInstanceCrd(): object {
  return crd({ group, plural: "virtualmachineinstances", kind: "VirtualMachineInstance", shortNames: ["vmi"], scope: "Namespaced" }, [
    {
      name: "v1",
      served: true,
      storage: true,
      // No status subresource, as KubeVirt's VMI: the controller writes the node label and the status in one write.
      additionalPrinterColumns: [
        age,
        { name: "Phase", type: "string", jsonPath: ".status.phase" },
        { name: "IP", type: "string", jsonPath: ".status.interfaces[0].ipAddress" },
        { name: "NodeName", type: "string", jsonPath: ".status.nodeName" },
        ready,
      ],
      schema: { openAPIV3Schema: rootSchema(virtualMachineInstance, "One running virtual machine.", "VirtualMachineInstance v1") },
    },
  ]);
}
