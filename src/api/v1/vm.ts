/** kubevirt.io/v1 VirtualMachine: a VM that may be started and stopped. */
import * as v from "valibot";
import { condition, doc, objectMeta, stringMap } from "./primitives.ts";
import { dataVolumeTemplates } from "./data-volume.ts";
import { instancetypeMatcher, preferenceMatcher } from "../instancetype/matcher.ts";
import { vmiSpec } from "./vmi.ts";

export const runStrategies = ["Always", "Halted", "Manual", "RerunOnFailure", "Once"] as const;

export const printableStatuses = [
  "Stopped", "Provisioning", "Starting", "Running", "Paused", "Stopping", "Terminating",
  "CrashLoopBackOff", "Migrating", "Unknown", "ErrorUnschedulable", "ErrImagePull",
  "ImagePullBackOff", "ErrorPvcNotFound", "DataVolumeError", "WaitingForVolumeBinding",
] as const;

export const templateMeta = v.looseObject({
  labels: v.optional(doc(stringMap, "Labels put on each VirtualMachineInstance made from the template.")),
  annotations: v.optional(doc(stringMap, "Annotations put on each VirtualMachineInstance made from the template.")),
});

export const vmSpec = v.strictObject({
  runStrategy: v.optional(
    doc(
      v.picklist(runStrategies),
      "When an instance should exist: Always (keep one running, restart it whenever it stops), RerunOnFailure (restart it only when it fails), Once (run it once, never restart), Manual (start and stop only on request), Halted (none). Default: Halted when neither runStrategy nor running is set.",
    ),
  ),
  /** Deprecated: use runStrategy. */
  running: v.optional(doc(v.boolean(), "Deprecated, use runStrategy: true is Always, false is Halted. Cannot be set together with runStrategy.")),
  instancetype: v.optional(doc(instancetypeMatcher, "The instancetype that sizes the VM (vCPUs, memory): the template may then not set what it sets. Its spec at first use is kept in a ControllerRevision, so a later change to it reaches the VM only when the VM is made to use it anew.")),
  preference: v.optional(doc(preferenceMatcher, "The preference whose defaults fill what the template leaves unset (disk and NIC models, firmware, machine type, clock, CPU layout). Kept in a ControllerRevision like the instancetype.")),
  dataVolumeTemplates: v.optional(doc(dataVolumeTemplates, "DataVolumes made with the VM and kept with it (deleted with the VM): each imports a disk (http, registry, blank, pvc clone) into a claim of its name, which a dataVolume volume of the template uses. The VM starts once every import has finished.")),
  template: doc(
    v.strictObject({
      metadata: v.optional(doc(templateMeta, "Labels and annotations for the instances.")),
      spec: doc(vmiSpec, "The VirtualMachineInstance spec each instance is made from."),
    }),
    "The VirtualMachineInstance this VM runs when its run strategy says it should run.",
  ),
});

const revisionRef = v.looseObject({
  name: v.optional(doc(v.string(), "Name of the instancetype or preference.")),
  kind: v.optional(doc(v.string(), "Its kind.")),
  controllerRevisionRef: v.optional(doc(v.looseObject({ name: v.optional(doc(v.string(), "Name of the ControllerRevision.")) }), "The ControllerRevision holding the copy.")),
});

export const vmStatus = v.looseObject({
  printableStatus: v.optional(doc(v.picklist(printableStatuses), "One word for people: Stopped, Starting, Running, Stopping, Terminating, and so on.")),
  ready: v.optional(doc(v.boolean(), "True when the VM's instance is running and ready.")),
  created: v.optional(doc(v.boolean(), "True when an instance of this VM exists.")),
  conditions: v.optional(doc(v.array(condition), "Observations about the VM, such as Ready.")),
  instancetypeRef: v.optional(doc(revisionRef, "The instancetype the VM was expanded with and the ControllerRevision holding its copy.")),
  preferenceRef: v.optional(doc(revisionRef, "The preference the VM was expanded with and the ControllerRevision holding its copy.")),
});

export const virtualMachine = v.strictObject({
  apiVersion: v.literal("kubevirt.io/v1"),
  kind: v.literal("VirtualMachine"),
  metadata: objectMeta,
  spec: doc(vmSpec, "What the VM should be: whether it runs, and the instance it runs."),
  status: v.optional(doc(vmStatus, "What the VM is, as bunvirt observed it. Written by bunvirt.")),
});

export type VirtualMachine = v.InferOutput<typeof virtualMachine>;
export type RunStrategy = (typeof runStrategies)[number];
