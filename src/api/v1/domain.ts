/** kubevirt.io/v1 DomainSpec: the virtual hardware. */
import * as v from "valibot";
import { machineTypePattern, maxListItems, maxVcpus, uuidPattern } from "../limits.ts";
import { boundedList, int, marker, patterned, quantity } from "./primitives.ts";
import { disk } from "./disk.ts";
import { iface } from "./interface.ts";

export const cpu = v.strictObject({
  cores: v.optional(int(1, maxVcpus)),
  sockets: v.optional(int(1, maxVcpus)),
  threads: v.optional(int(1, maxVcpus)),
  /** "host-model", "host-passthrough" or a named QEMU model. */
  model: v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty"))),
});

export const memory = v.strictObject({
  /** Memory the guest sees; defaults to the memory request. */
  guest: v.optional(quantity),
});

export const resourceList = v.strictObject({
  memory: v.optional(quantity),
  cpu: v.optional(quantity),
});

export const resources = v.strictObject({
  requests: v.optional(resourceList),
  limits: v.optional(resourceList),
  overcommitGuestOverhead: v.optional(v.boolean()),
});

export const machine = v.strictObject({
  /** libvirt's rule for the machine attribute. */
  type: v.optional(patterned(machineTypePattern, "must be made of the characters A-Z a-z 0-9 _ . - (at least one), such as \"q35\" or \"pc-q35-7.2\"")),
});

export const bios = v.strictObject({ useSerial: v.optional(v.boolean()) });
export const efi = v.strictObject({ secureBoot: v.optional(v.boolean()), persistent: v.optional(v.boolean()) });

export const kernelBootContainer = v.strictObject({
  image: v.string(),
  imagePullSecret: v.optional(v.string()),
  imagePullPolicy: v.optional(v.picklist(["Always", "IfNotPresent", "Never"])),
  kernelPath: v.optional(v.string()),
  initrdPath: v.optional(v.string()),
});

export const firmware = v.strictObject({
  uuid: v.optional(patterned(uuidPattern, "must be a UUID such as \"5d307ca9-b3ef-428c-8861-06e72d69f223\"")),
  serial: v.optional(v.string()),
  bootloader: v.optional(v.strictObject({ bios: v.optional(bios), efi: v.optional(efi) })),
  kernelBoot: v.optional(
    v.strictObject({ kernelArgs: v.optional(v.string()), container: v.optional(kernelBootContainer) }),
  ),
});

const featureState = v.strictObject({ enabled: v.optional(v.boolean()) });

export const features = v.strictObject({
  acpi: v.optional(featureState),
  apic: v.optional(featureState),
  smm: v.optional(featureState),
});

export const devices = v.strictObject({
  disks: v.optional(boundedList(disk, maxListItems)),
  interfaces: v.optional(boundedList(iface, maxListItems)),
  /** Attach a serial console (default true). */
  autoattachSerialConsole: v.optional(v.boolean()),
  /** Give a VMI without interfaces the pod network with masquerade (default true). */
  autoattachPodInterface: v.optional(v.boolean()),
  /** Attach a virtio memory balloon (default true). */
  autoattachMemBalloon: v.optional(v.boolean()),
  /** A virtio RNG device fed from the host's /dev/urandom. */
  rng: v.optional(marker()),
});

const domainEntries = {
  cpu: v.optional(cpu),
  memory: v.optional(memory),
  resources: v.optional(resources),
  machine: v.optional(machine),
  firmware: v.optional(firmware),
  features: v.optional(features),
  devices: devices,
};

export const domain = v.strictObject(domainEntries);

/** The same domain with another device list; v1alpha1 uses it for its disks. */
export function domainWithDevices<T extends v.GenericSchema>(devicesSchema: T) {
  return v.strictObject({ ...domainEntries, devices: devicesSchema });
}
