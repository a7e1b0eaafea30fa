/** kubevirt.io/v1 VirtualMachineInstance: one running VM. */
import * as v from "valibot";
import { domain } from "./domain.ts";
import { network } from "./interface.ts";
import { maxListItems } from "../limits.ts";
import { boundedList, condition, doc, int, objectMeta, stringMap } from "./primitives.ts";
import { volume } from "./volume.ts";

export const vmiPhases = ["Pending", "Scheduling", "Scheduled", "Running", "Succeeded", "Failed", "Unknown"] as const;

/** The fields a VMI spec shares with v1alpha1's VM spec. */
export const vmiSpecTexts = {
  domain: "The virtual hardware: CPU, memory, firmware, machine and devices.",
  volumes: "Where the disks' bytes come from, one volume per disk, matched by name; a volume that no disk names gets a virtio disk of its name. At most 256.",
  terminationGracePeriodSeconds: "Seconds the guest is given to shut down after an ACPI power-button event before it is stopped hard. Default: 30.",
  hostname: "Host name the guest is given (in cloud-init's metadata); a DNS-1123 label. Default: the object's name, cut to 63 characters.",
  nodeSelector: "Labels a node must carry for the VM to be scheduled there.",
  priorityClassName: "PriorityClass of the launcher pod, which decides which pods the scheduler preempts first. Default: the cluster's default priority.",
  evictionStrategy: "What an eviction of the launcher pod (a node drain) does. bunvirt does not migrate VMs, so: None and LiveMigrateIfPossible let the eviction stop the VM; LiveMigrate (the VM cannot migrate) and External (something outside handles it) refuse the eviction, through a PodDisruptionBudget on the launcher pod. Default: None.",
};

export const evictionStrategies = ["None", "LiveMigrate", "LiveMigrateIfPossible", "External"] as const;

export const vmiSpec = v.strictObject({
  domain: doc(domain, vmiSpecTexts.domain),
  volumes: v.optional(doc(boundedList(volume, maxListItems), vmiSpecTexts.volumes)),
  networks: v.optional(doc(boundedList(network, maxListItems), "Networks the interfaces join, one network per interface, matched by name. At most 256. Default: the pod network (see domain.devices.autoattachPodInterface).")),
  terminationGracePeriodSeconds: v.optional(doc(int(0), vmiSpecTexts.terminationGracePeriodSeconds)),
  hostname: v.optional(doc(v.string(), vmiSpecTexts.hostname)),
  nodeSelector: v.optional(doc(stringMap, vmiSpecTexts.nodeSelector)),
  priorityClassName: v.optional(doc(v.string(), vmiSpecTexts.priorityClassName)),
  evictionStrategy: v.optional(doc(v.picklist(evictionStrategies), vmiSpecTexts.evictionStrategy)),
});

export const vmiInterfaceStatus = v.looseObject({
  name: v.optional(doc(v.string(), "Name of the interface in the spec.")),
  ipAddress: v.optional(doc(v.string(), "The interface's first IP address, as reachable from the cluster.")),
  ipAddresses: v.optional(doc(v.array(v.string()), "All IP addresses of the interface.")),
  mac: v.optional(doc(v.string(), "MAC address of the guest's NIC.")),
  interfaceName: v.optional(doc(v.string(), "Name of the interface inside the guest, when known.")),
});

/** Written by bunvirt, not by users: unknown keys are kept. */
export const vmiStatus = v.looseObject({
  phase: v.optional(doc(v.picklist(vmiPhases), "Where the instance is in its life: Pending, Scheduling, Scheduled, Running, Succeeded, Failed or Unknown.")),
  conditions: v.optional(doc(v.array(condition), "Observations about the instance, such as Ready.")),
  nodeName: v.optional(doc(v.string(), "Node the instance runs on.")),
  interfaces: v.optional(doc(v.array(vmiInterfaceStatus), "The guest's network interfaces and their addresses.")),
  reason: v.optional(doc(v.string(), "Why the instance is in its phase, when it failed or ended.")),
});

export const virtualMachineInstance = v.strictObject({
  apiVersion: v.literal("kubevirt.io/v1"),
  kind: v.literal("VirtualMachineInstance"),
  metadata: objectMeta,
  spec: doc(vmiSpec, "What the instance should be: its hardware, volumes and networks."),
  status: v.optional(doc(vmiStatus, "What the instance is, as bunvirt observed it. Written by bunvirt.")),
});

export type VirtualMachineInstance = v.InferOutput<typeof virtualMachineInstance>;
export type VmiSpec = v.InferOutput<typeof vmiSpec>;
