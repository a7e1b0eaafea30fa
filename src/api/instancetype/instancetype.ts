/**
 * instancetype.kubevirt.io/v1beta1 VirtualMachineInstancetype and
 * VirtualMachineClusterInstancetype: a named size (vCPUs, memory) a VM
 * refers to instead of sizing its domain by hand. The fields bunvirt cannot
 * act on (GPUs, host devices, NUMA, hugepages, realtime, I/O threads,
 * launch security, CPU and memory hotplug limits) are refused as unknown.
 */
import * as v from "valibot";
import { maxVcpus } from "../limits.ts";
import { doc, int, nonEmpty, objectMeta, quantity, stringMap } from "../v1/primitives.ts";

export const instancetypeGroup = "instancetype.kubevirt.io";
export const instancetypeVersion = "v1beta1";
export const instancetypeApiVersion = `${instancetypeGroup}/${instancetypeVersion}`;

export const instancetypeSpec = v.strictObject({
  cpu: doc(
    v.strictObject({
      guest: doc(int(1, maxVcpus), "vCPUs the guest sees. The VM's preference decides how they are split into sockets, cores and threads (default: all sockets)."),
      model: v.optional(doc(nonEmpty(), "CPU model the guest sees, as domain.cpu.model (host-model, host-passthrough or a QEMU model name). Default: the VM's own, else host-model.")),
      dedicatedCPUPlacement: v.optional(doc(v.boolean(), "Pin each vCPU to a host CPU of its own, as domain.cpu.dedicatedCpuPlacement. Default: the VM's own.")),
      isolateEmulatorThread: v.optional(doc(v.boolean(), "With dedicated CPUs, one more CPU for QEMU's own threads, as domain.cpu.isolateEmulatorThread. Default: the VM's own.")),
    }),
    "The vCPUs of a VM of this type.",
  ),
  memory: doc(
    v.strictObject({
      guest: doc(quantity, "Memory the guest sees, as a quantity in bytes (such as 4Gi)."),
      overcommitPercent: v.optional(doc(int(0, 100), "Ask the node for this percentage less memory than the guest sees (the launcher pod's memory request is guest × (100 − percent) / 100). Default: 0.")),
    }),
    "The memory of a VM of this type.",
  ),
  nodeSelector: v.optional(doc(stringMap, "Labels a node must carry to run a VM of this type; a VM using the type may not set its own.")),
  annotations: v.optional(doc(stringMap, "Annotations put on each VirtualMachineInstance of this type; a VM may not set one of them to another value.")),
});

/** An object of the instancetype.kubevirt.io group: its kind, metadata and `spec`. */
export const instancetypeGroupObject = <K extends string, S extends v.GenericSchema>(kind: K, spec: S, specText: string) =>
  v.strictObject({
    apiVersion: v.literal(instancetypeApiVersion),
    kind: v.literal(kind),
    metadata: objectMeta,
    spec: doc(spec, specText),
  });

const instancetypeObject = <K extends string>(kind: K, scope: string) =>
  instancetypeGroupObject(kind, instancetypeSpec, `The size of the VMs that name this ${scope} instancetype: vCPUs, memory, node selector and annotations.`);

export const virtualMachineInstancetype = instancetypeObject("VirtualMachineInstancetype", "namespaced");
export const virtualMachineClusterInstancetype = instancetypeObject("VirtualMachineClusterInstancetype", "cluster-wide");

export type InstancetypeSpec = v.InferOutput<typeof instancetypeSpec>;
export type VirtualMachineInstancetype = v.InferOutput<typeof virtualMachineInstancetype>;
export type VirtualMachineClusterInstancetype = v.InferOutput<typeof virtualMachineClusterInstancetype>;
