/** kubevirt.io/v1 VirtualMachine: a VM that may be started and stopped. */
import * as v from "valibot";
import { condition, objectMeta } from "./primitives.ts";
import { vmiSpec } from "./vmi.ts";

export const runStrategies = ["Always", "Halted", "Manual", "RerunOnFailure", "Once"] as const;

export const printableStatuses = [
  "Stopped", "Provisioning", "Starting", "Running", "Paused", "Stopping", "Terminating",
  "CrashLoopBackOff", "Migrating", "Unknown", "ErrorUnschedulable", "ErrImagePull",
  "ImagePullBackOff", "ErrorPvcNotFound", "DataVolumeError", "WaitingForVolumeBinding",
] as const;

export const templateMeta = v.looseObject({
  labels: v.optional(v.record(v.string(), v.string())),
  annotations: v.optional(v.record(v.string(), v.string())),
});

export const vmSpec = v.strictObject({
  runStrategy: v.optional(v.picklist(runStrategies)),
  /** Deprecated: use runStrategy. */
  running: v.optional(v.boolean()),
  template: v.strictObject({ metadata: v.optional(templateMeta), spec: vmiSpec }),
});

export const vmStatus = v.looseObject({
  printableStatus: v.optional(v.picklist(printableStatuses)),
  ready: v.optional(v.boolean()),
  created: v.optional(v.boolean()),
  conditions: v.optional(v.array(condition)),
});

export const virtualMachine = v.strictObject({
  apiVersion: v.literal("kubevirt.io/v1"),
  kind: v.literal("VirtualMachine"),
  metadata: objectMeta,
  spec: vmSpec,
  status: v.optional(vmStatus),
});

export type VirtualMachine = v.InferOutput<typeof virtualMachine>;
export type RunStrategy = (typeof runStrategies)[number];
