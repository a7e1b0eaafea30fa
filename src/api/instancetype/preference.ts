/**
 * instancetype.kubevirt.io/v1beta1 VirtualMachinePreference and
 * VirtualMachineClusterPreference: defaults a VM takes for what its own
 * template leaves unset (disk and NIC models, firmware, machine, clock,
 * Hyper-V, CPU topology), and the least resources it needs. Preferences
 * only fill gaps, so KubeVirt's preferences bunvirt has no device for are
 * accepted and said to be not applied; fields that would change what a
 * user asked for are refused as unknown.
 */
import * as v from "valibot";
import { machineTypePattern, maxVcpus } from "../limits.ts";
import { clock, timer } from "../v1/clock.ts";
import { cdromBuses, diskBuses, lunBuses } from "../v1/disk.ts";
import { efi, features } from "../v1/domain.ts";
import { hyperv } from "../v1/hyperv.ts";
import { inputBuses } from "../v1/input.ts";
import { interfaceModels } from "../v1/interface.ts";
import { doc, int, marker, patterned, quantity, stringMap } from "../v1/primitives.ts";
import { instancetypeGroupObject } from "./instancetype.ts";

/** KubeVirt's topologies; the prefer* spellings are its deprecated ones. */
export const cpuTopologies = ["sockets", "cores", "threads", "spread", "any", "preferSockets", "preferCores", "preferThreads", "preferSpread", "preferAny"] as const;
export const spreadAcross = ["SocketsCores", "CoresThreads", "SocketsCoresThreads"] as const;

const notApplied = (what: string) => `Accepted for KubeVirt compatibility; bunvirt ${what}, so it is not applied.`;
const flag = (text: string) => v.optional(doc(v.boolean(), text));

const cpuPreferences = v.strictObject({
  preferredCPUTopology: v.optional(doc(v.picklist(cpuTopologies), "How an instancetype's vCPUs are laid out: sockets (all sockets), cores, threads, spread (sockets × cores at spreadOptions' ratio) or any (as sockets). Default: sockets.")),
  spreadOptions: v.optional(doc(v.strictObject({
    across: v.optional(doc(v.picklist(spreadAcross), "What spread splits the vCPUs across: SocketsCores (ratio cores per socket), CoresThreads (ratio threads per core) or SocketsCoresThreads (2 threads per core, ratio cores per socket). Default: SocketsCores.")),
    ratio: v.optional(doc(int(1, maxVcpus), "The ratio spread keeps. Default: 2 (or preferSpreadSocketToCoreRatio).")),
  }), "How the spread topology splits the vCPUs.")),
});

const devicePreferences = v.strictObject({
  preferredDiskBus: v.optional(doc(v.picklist(diskBuses), "Bus of a disk that names none.")),
  preferredCdromBus: v.optional(doc(v.picklist(cdromBuses), "Bus of a cdrom that names none.")),
  preferredLunBus: v.optional(doc(v.picklist(lunBuses), "Bus of a lun that names none.")),
  preferredInterfaceModel: v.optional(doc(v.picklist(interfaceModels), "Model of a network interface that names none.")),
  preferredInterfaceMasquerade: v.optional(doc(marker(), "Give an interface on the pod network that names no binding masquerade. Set as an empty object.")),
  preferredInputBus: v.optional(doc(v.picklist(inputBuses), "Bus of an input device that names none.")),
  preferredInputType: v.optional(doc(v.picklist(["tablet"]), "Type of an input device that names none.")),
  preferredRng: v.optional(doc(marker(), "Attach a virtio random number generator when the VM has none. Set as an empty object.")),
  preferredAutoattachSerialConsole: flag("domain.devices.autoattachSerialConsole when the VM does not set it."),
  preferredAutoattachPodInterface: flag("domain.devices.autoattachPodInterface when the VM does not set it."),
  preferredAutoattachMemBalloon: flag("domain.devices.autoattachMemBalloon when the VM does not set it."),
  preferredAutoattachGraphicsDevice: flag(notApplied("gives VMs no graphical display")),
  preferredAutoattachInputDevice: flag(notApplied("adds an input device only when the VM lists one")),
  preferredDisableHotplug: flag(notApplied("has no device hotplug")),
  preferredUseVirtioTransitional: flag(notApplied("uses modern virtio devices only")),
  preferredBlockMultiQueue: flag(notApplied("does not set disk queues")),
  preferredNetworkInterfaceMultiQueue: flag(notApplied("does not set NIC queues")),
  preferredDiskDedicatedIoThread: flag(notApplied("does not set I/O threads")),
  preferredDiskCache: v.optional(doc(v.picklist(["none", "writethrough", "writeback"]), notApplied("chooses each disk's cache mode itself"))),
  preferredDiskIO: v.optional(doc(v.picklist(["native", "threads", "default"]), notApplied("chooses each disk's I/O mode itself"))),
  preferredSoundModel: v.optional(doc(v.string(), notApplied("has no sound device"))),
  preferredVideoType: v.optional(doc(v.string(), notApplied("gives VMs no graphical display"))),
  preferredTPM: v.optional(doc(v.strictObject({
    enabled: flag("Turn the TPM on (true) or off (false)."),
    persistent: flag("Keep the TPM's state across restarts. Not applied: bunvirt keeps no TPM state across restarts (the VM's own persistent: true is refused)."),
  }), "A TPM (domain.devices.tpm) when the VM sets none.")),
});

const featurePreferences = v.strictObject({
  preferredAcpi: v.optional(doc(features.entries.acpi.wrapped, "ACPI for the VM; set, it replaces the VM's own.")),
  preferredApic: v.optional(doc(features.entries.apic.wrapped, "The APIC when the VM does not set it.")),
  preferredSmm: v.optional(doc(features.entries.smm.wrapped, "SMM when the VM does not set it.")),
  preferredHyperv: v.optional(doc(hyperv, "Hyper-V enlightenments, each when the VM does not set it.")),
  preferredKvm: v.optional(doc(v.strictObject({ hidden: flag("Hide KVM from the guest.") }), notApplied("does not hide KVM"))),
  preferredPvspinlock: v.optional(doc(v.strictObject({ enabled: flag("Turn paravirtual spinlocks on or off.") }), notApplied("leaves paravirtual spinlocks at QEMU's default"))),
});

const firmwarePreferences = v.strictObject({
  preferredUseBios: flag("Boot with BIOS when the VM names no bootloader."),
  preferredUseBiosSerial: flag("bios.useSerial when the VM boots with BIOS and does not set it."),
  preferredEfi: v.optional(doc(efi, "Boot with this EFI when the VM names no bootloader.")),
  preferredUseEfi: flag("Deprecated, use preferredEfi: boot with EFI when the VM names no bootloader."),
  preferredUseSecureBoot: flag("Deprecated, use preferredEfi: efi.secureBoot when the VM boots with EFI and does not set it."),
});

export const preferenceSpec = v.strictObject({
  cpu: v.optional(doc(cpuPreferences, "How vCPUs are laid out.")),
  devices: v.optional(doc(devicePreferences, "Device models and buses for devices that name none.")),
  features: v.optional(doc(featurePreferences, "Platform features.")),
  firmware: v.optional(doc(firmwarePreferences, "The bootloader.")),
  machine: v.optional(doc(v.strictObject({
    preferredMachineType: v.optional(doc(patterned(machineTypePattern, "must be made of the characters A-Z a-z 0-9 _ . - (at least one), such as \"q35\""), "Machine type when the VM does not set one.")),
  }), "The emulated machine.")),
  clock: v.optional(doc(v.strictObject({
    preferredClockOffset: v.optional(doc(v.strictObject({ utc: clock.entries.utc, timezone: clock.entries.timezone }), "UTC (optionally offset) or a time zone when the VM sets neither.")),
    preferredTimer: v.optional(doc(timer, "The timers when the VM sets none.")),
  }), "The guest's clock.")),
  volumes: v.optional(doc(v.strictObject({
    preferredStorageClassName: v.optional(doc(v.string(), notApplied("creates no claims from a VM yet"))),
  }), "Storage for volumes the VM creates.")),
  preferredTerminationGracePeriodSeconds: v.optional(doc(int(0), "terminationGracePeriodSeconds when the VM does not set it.")),
  preferSpreadSocketToCoreRatio: v.optional(doc(int(1, maxVcpus), "Deprecated, use cpu.spreadOptions.ratio.")),
  requirements: v.optional(doc(v.strictObject({
    cpu: v.optional(doc(v.strictObject({ guest: doc(int(1, maxVcpus), "The fewest vCPUs.") }), "The fewest vCPUs a VM with this preference may have.")),
    memory: v.optional(doc(v.strictObject({ guest: doc(quantity, "The least guest memory, as a quantity in bytes.") }), "The least memory a VM with this preference may have.")),
  }), "The least a VM with this preference needs; a smaller VM is refused.")),
  annotations: v.optional(doc(stringMap, "Annotations put on each VirtualMachineInstance when it does not have them.")),
});

const preferenceObject = <K extends string>(kind: K, scope: string) =>
  instancetypeGroupObject(kind, preferenceSpec, `Defaults for the VMs that name this ${scope} preference.`);

export const virtualMachinePreference = preferenceObject("VirtualMachinePreference", "namespaced");
export const virtualMachineClusterPreference = preferenceObject("VirtualMachineClusterPreference", "cluster-wide");

export type PreferenceSpec = v.InferOutput<typeof preferenceSpec>;
export type VirtualMachinePreference = v.InferOutput<typeof virtualMachinePreference>;
export type VirtualMachineClusterPreference = v.InferOutput<typeof virtualMachineClusterPreference>;
