/** kubevirt.io/v1 VirtualMachineInstance: one running VM. */
import * as v from "valibot";
import { domain } from "./domain.ts";
import { network } from "./interface.ts";
import { maxListItems } from "../limits.ts";
import { boundedList, condition, int, objectMeta, stringMap } from "./primitives.ts";
import { volume } from "./volume.ts";

export const vmiPhases = ["Pending", "Scheduling", "Scheduled", "Running", "Succeeded", "Failed", "Unknown"] as const;

export const vmiSpec = v.strictObject({
  domain,
  volumes: v.optional(boundedList(volume, maxListItems)),
  networks: v.optional(boundedList(network, maxListItems)),
  terminationGracePeriodSeconds: v.optional(int(0)),
  hostname: v.optional(v.string()),
  nodeSelector: v.optional(stringMap),
});

export const vmiInterfaceStatus = v.looseObject({
  name: v.optional(v.string()),
  ipAddress: v.optional(v.string()),
  ipAddresses: v.optional(v.array(v.string())),
  mac: v.optional(v.string()),
  interfaceName: v.optional(v.string()),
});

/** Written by bunvirt, not by users: unknown keys are kept. */
export const vmiStatus = v.looseObject({
  phase: v.optional(v.picklist(vmiPhases)),
  conditions: v.optional(v.array(condition)),
  nodeName: v.optional(v.string()),
  interfaces: v.optional(v.array(vmiInterfaceStatus)),
  reason: v.optional(v.string()),
});

export const virtualMachineInstance = v.strictObject({
  apiVersion: v.literal("kubevirt.io/v1"),
  kind: v.literal("VirtualMachineInstance"),
  metadata: objectMeta,
  spec: vmiSpec,
  status: v.optional(vmiStatus),
});

export type VirtualMachineInstance = v.InferOutput<typeof virtualMachineInstance>;
export type VmiSpec = v.InferOutput<typeof vmiSpec>;
