/** kubevirt.io/v1 DomainSpec: the virtual hardware. */
import * as v from "valibot";
import { machineTypePattern, maxListItems, maxVcpus, uuidPattern } from "../limits.ts";
import { boundedList, doc, int, marker, nonEmpty, patterned, quantity } from "./primitives.ts";
import { disk } from "./disk.ts";
import { clock } from "./clock.ts";
import { hyperv } from "./hyperv.ts";
import { input } from "./input.ts";
import { iface } from "./interface.ts";
import { tpm } from "./tpm.ts";

export const cpu = v.strictObject({
  cores: v.optional(doc(int(1, maxVcpus), "Cores per socket. vCPUs = sockets × cores × threads. Default: 1.")),
  sockets: v.optional(doc(int(1, maxVcpus), "Sockets (CPU packages) the guest sees. Default: 1.")),
  threads: v.optional(doc(int(1, maxVcpus), "Threads per core. Default: 1.")),
  /** "host-model", "host-passthrough" or a named QEMU model. */
  model: v.optional(doc(nonEmpty(), "CPU model the guest sees: host-model (the host's CPU as a named model), host-passthrough (the host's CPU as is) or a QEMU model name such as Skylake-Server. Default: host-model (under emulation, QEMU's most capable model).")),
  dedicatedCpuPlacement: v.optional(doc(v.boolean(), "Give each vCPU a host CPU of its own: the launcher pod asks for whole CPUs with requests equal to limits (guaranteed QoS, so the kubelet's static CPU manager hands it exclusive CPUs) and pins vCPU n to the n-th CPU it was given. Default: false.")),
  isolateEmulatorThread: v.optional(doc(v.boolean(), "With dedicatedCpuPlacement: one more CPU for the pod, and QEMU's own threads pinned to it, away from the vCPUs. Default: false.")),
});

export const memory = v.strictObject({
  /** Memory the guest sees; defaults to the memory request. */
  guest: v.optional(doc(quantity, "Memory the guest sees, as a quantity in bytes (such as 1Gi). Default: the memory request.")),
});

const resourceList = (what: string) =>
  v.strictObject({
    memory: v.optional(doc(quantity, `Memory ${what}, as a quantity in bytes (such as 64M or 1Gi).`)),
    cpu: v.optional(doc(quantity, `CPU ${what}, as a quantity in cores (such as 1 or 500m).`)),
  });

export const resources = v.strictObject({
  requests: v.optional(doc(resourceList("the launcher pod requests from its node"), "What the launcher pod asks the scheduler to reserve. A memory request (or memory.guest) is required.")),
  limits: v.optional(doc(resourceList("the launcher pod may use at most"), "The most the launcher pod may use; each limit is at least its request.")),
  overcommitGuestOverhead: v.optional(doc(v.boolean(), "In KubeVirt: do not add the VM's overhead to the pod's memory request. Accepted; bunvirt does not add an overhead. Default: false.")),
});

export const machine = v.strictObject({
  /** libvirt's rule for the machine attribute. */
  type: v.optional(doc(patterned(machineTypePattern, "must be made of the characters A-Z a-z 0-9 _ . - (at least one), such as \"q35\" or \"pc-q35-7.2\""), "QEMU machine type, such as q35 or pc-q35-7.2. Default: q35.")),
});

export const bios = v.strictObject({
  useSerial: v.optional(doc(v.boolean(), "Let the BIOS print to the serial console. Default: false.")),
});
export const efi = v.strictObject({
  secureBoot: v.optional(doc(v.boolean(), "Boot with UEFI Secure Boot (needs SMM, turned on with it). Default: true.")),
  persistent: v.optional(doc(v.boolean(), "In KubeVirt: keep the UEFI variables across restarts. Accepted; bunvirt starts from fresh variables each boot. Default: false.")),
});

const pullPolicyText = "When to pull the image: Always, IfNotPresent or Never (Never needs the image by digest in the node's cache). Default: IfNotPresent.";

export const kernelBootContainer = v.strictObject({
  image: doc(v.string(), "Container image holding the kernel and initrd, such as registry.example/kernels/fedora:39."),
  imagePullSecret: v.optional(doc(v.string(), "Name of a Secret with the credentials to pull the image.")),
  imagePullPolicy: v.optional(doc(v.picklist(["Always", "IfNotPresent", "Never"]), pullPolicyText)),
  kernelPath: v.optional(doc(v.string(), "Absolute path of the kernel inside the image, such as /boot/vmlinuz.")),
  initrdPath: v.optional(doc(v.string(), "Absolute path of the initrd inside the image, such as /boot/initramfs.img. Default: no initrd.")),
});

export const firmware = v.strictObject({
  uuid: v.optional(doc(patterned(uuidPattern, "must be a UUID such as \"5d307ca9-b3ef-428c-8861-06e72d69f223\""), "UUID the guest reads from SMBIOS, such as 5d307ca9-b3ef-428c-8861-06e72d69f223. Default: derived from the namespace and name, so it stays the same across restarts.")),
  serial: v.optional(doc(v.string(), "In KubeVirt: the SMBIOS system serial number. Accepted; bunvirt does not set it yet.")),
  bootloader: v.optional(
    doc(
      v.strictObject({
        bios: v.optional(doc(bios, "Boot with legacy BIOS (SeaBIOS).")),
        efi: v.optional(doc(efi, "Boot with UEFI (OVMF).")),
      }),
      "Firmware that boots the guest: bios or efi, one of them. Default: BIOS.",
    ),
  ),
  kernelBoot: v.optional(
    doc(
      v.strictObject({
        kernelArgs: v.optional(doc(v.string(), "Kernel command line, such as \"console=ttyS0\". Needs container.")),
        container: v.optional(doc(kernelBootContainer, "The container image the kernel and initrd come from.")),
      }),
      "Boot a kernel (and initrd) directly instead of from a disk's bootloader.",
    ),
  ),
});

const featureState = (name: string, dflt: string) =>
  v.strictObject({ enabled: v.optional(doc(v.boolean(), `Turn ${name} on (true) or off (false). Default: ${dflt}.`)) });

export const features = v.strictObject({
  acpi: v.optional(doc(featureState("ACPI", "true"), "ACPI, which lets the guest be shut down gracefully by a power-button event. Default: on.")),
  apic: v.optional(doc(featureState("the APIC", "true"), "The advanced programmable interrupt controller. Default: on.")),
  smm: v.optional(doc(featureState("SMM", "true"), "System Management Mode; EFI Secure Boot needs it (enabled false with Secure Boot is refused). Default: on exactly when Secure Boot is.")),
  hyperv: v.optional(doc(hyperv, "Hyper-V enlightenments, for Windows guests on KVM. Under emulation (no KVM) bunvirt leaves them out of the domain: QEMU's TCG cannot give the guest a VP index, and they only speed up a guest on KVM. Default: none.")),
});

export const devices = v.strictObject({
  disks: v.optional(doc(boundedList(disk, maxListItems), "Disks the guest sees, each naming the volume it shows. At most 256.")),
  interfaces: v.optional(doc(boundedList(iface, maxListItems), "Network interfaces the guest sees, each naming the network it joins. At most 256. Default: one masquerade interface on the pod network (see autoattachPodInterface).")),
  inputs: v.optional(doc(boundedList(input, maxListItems), "Input devices the guest sees, such as a USB tablet. At most 256. Default: none.")),
  /** Attach a serial console (default true). */
  autoattachSerialConsole: v.optional(doc(v.boolean(), "Attach a serial console to the guest. Default: true.")),
  /** Give a VMI without interfaces the pod network with masquerade (default true). */
  autoattachPodInterface: v.optional(doc(v.boolean(), "Give a VM that lists no interfaces and no networks one interface named default on the pod network with masquerade. Default: true.")),
  /** Attach a virtio memory balloon (default true). */
  autoattachMemBalloon: v.optional(doc(v.boolean(), "Attach a virtio memory balloon device. Default: true.")),
  /** A virtio RNG device fed from the host's /dev/urandom. */
  rng: v.optional(doc(marker(), "Attach a virtio random number generator fed by the host's /dev/urandom. Set as an empty object. Default: none.")),
  tpm: v.optional(doc(tpm, "A software TPM 2.0 (swtpm) the guest sees as a TIS device, as /dev/tpm0 in Linux; what Windows 11 and measured boot need. Set as an empty object. Default: none.")),
});

const devicesText = "Devices attached to the guest: disks, interfaces, inputs, console, balloon, RNG.";

const domainEntries = {
  cpu: v.optional(doc(cpu, "The vCPUs: topology and model. Default: one socket, one core, one thread.")),
  memory: v.optional(doc(memory, "Memory as the guest sees it.")),
  resources: v.optional(doc(resources, "Resources the launcher pod requests from and is limited to on its node.")),
  machine: v.optional(doc(machine, "The emulated machine (chipset).")),
  firmware: v.optional(doc(firmware, "Firmware: bootloader, SMBIOS identity and direct kernel boot.")),
  clock: v.optional(doc(clock, "The guest's clock: UTC (optionally offset) or a time zone, and its timers. Default: UTC with RTC catchup, PIT delay, no HPET.")),
  features: v.optional(doc(features, "Platform features of the machine (ACPI, APIC, SMM, Hyper-V enlightenments).")),
  devices: doc(devices, devicesText),
};

export const domain = v.strictObject(domainEntries);

/** The same domain with another device list; v1alpha1 uses it for its disks. */
export function domainWithDevices<T extends v.GenericSchema>(devicesSchema: T) {
  return v.strictObject({ ...domainEntries, devices: doc(devicesSchema, devicesText) });
}
