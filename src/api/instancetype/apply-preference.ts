/**
 * A preference applied to a VMI spec, KubeVirt's way: each preferred value
 * fills what the VM left unset (preferredAcpi alone replaces the VM's own,
 * as in KubeVirt). A volume no disk names gets its disk first, so that disk
 * takes the preferred bus too. Pure: returns a new spec.
 */
import type { VmiSpec } from "../v1/vmi.ts";
import type { PreferenceSpec } from "./preference.ts";

type Domain = VmiSpec["domain"];
type Disk = NonNullable<VmiSpec["domain"]["devices"]["disks"]>[number];

export function applyPreference(input: VmiSpec, p: PreferenceSpec): VmiSpec {
  const spec = structuredClone(input);
  applyDevices(spec, p);
  applyFeatures(spec.domain, p);
  applyFirmware(spec.domain, p);
  const machineType = p.machine?.preferredMachineType;
  if (machineType !== undefined && spec.domain.machine?.type === undefined) spec.domain.machine = { ...spec.domain.machine, type: machineType };
  applyClock(spec.domain, p);
  if (p.preferredTerminationGracePeriodSeconds !== undefined) spec.terminationGracePeriodSeconds ??= p.preferredTerminationGracePeriodSeconds;
  return spec;
}

function applyDevices(spec: VmiSpec, p: PreferenceSpec): void {
  const d = p.devices;
  if (d === undefined) return;
  const devices = spec.domain.devices;
  const named = new Set((devices.disks ?? []).map((x) => x.name));
  const diskless = (spec.volumes ?? []).filter((vol) => !named.has(vol.name)).map((vol): Disk => ({ name: vol.name }));
  if (devices.disks !== undefined || diskless.length > 0) {
    devices.disks = [...(devices.disks ?? []), ...diskless].map((disk): Disk => {
      if (disk.cdrom !== undefined) return { ...disk, cdrom: { ...disk.cdrom, bus: disk.cdrom.bus ?? d.preferredCdromBus } };
      if (disk.lun !== undefined) return { ...disk, lun: { ...disk.lun, bus: disk.lun.bus ?? d.preferredLunBus } };
      return { ...disk, disk: { ...disk.disk, bus: disk.disk?.bus ?? d.preferredDiskBus } };
    }).map(dropUndefinedBus);
  }
  const podNetworks = new Set((spec.networks ?? []).filter((n) => n.pod !== undefined).map((n) => n.name));
  if (devices.interfaces !== undefined) {
    devices.interfaces = devices.interfaces.map((nic) => {
      const out = { ...nic };
      if (d.preferredInterfaceModel !== undefined) out.model ??= d.preferredInterfaceModel;
      const unbound = nic.masquerade === undefined && nic.bridge === undefined;
      if (d.preferredInterfaceMasquerade !== undefined && unbound && podNetworks.has(nic.name)) out.masquerade = {};
      return out;
    });
  }
  if (devices.inputs !== undefined) {
    devices.inputs = devices.inputs.map((i) => (d.preferredInputBus !== undefined && i.bus === undefined ? { ...i, bus: d.preferredInputBus } : i));
  }
  if (d.preferredRng !== undefined) devices.rng ??= {};
  // A preferred TPM is soft: its persistent (which bunvirt refuses on a VM) is left out.
  if (d.preferredTPM !== undefined && devices.tpm === undefined) devices.tpm = d.preferredTPM.enabled !== undefined ? { enabled: d.preferredTPM.enabled } : {};
  if (d.preferredAutoattachSerialConsole !== undefined) devices.autoattachSerialConsole ??= d.preferredAutoattachSerialConsole;
  if (d.preferredAutoattachPodInterface !== undefined) devices.autoattachPodInterface ??= d.preferredAutoattachPodInterface;
  if (d.preferredAutoattachMemBalloon !== undefined) devices.autoattachMemBalloon ??= d.preferredAutoattachMemBalloon;
}

/** A target whose bus neither the VM nor the preference set keeps no `bus: undefined` key. */
function dropUndefinedBus<T extends Record<string, unknown>>(disk: T): T {
  const out: Record<string, unknown> = { ...disk };
  for (const key of ["disk", "cdrom", "lun"]) {
    const target = out[key] as Record<string, unknown> | undefined;
    if (target !== undefined && "bus" in target && target.bus === undefined) {
      const { bus: _, ...rest } = target;
      out[key] = rest;
    }
  }
  return out as T;
}

function applyFeatures(domain: Domain, p: PreferenceSpec): void {
  const f = p.features;
  if (f === undefined) return;
  const features = { ...domain.features };
  if (f.preferredAcpi !== undefined) features.acpi = { ...f.preferredAcpi };
  if (f.preferredApic !== undefined) features.apic ??= { ...f.preferredApic };
  if (f.preferredSmm !== undefined) features.smm ??= { ...f.preferredSmm };
  if (f.preferredHyperv !== undefined) features.hyperv = { ...structuredClone(f.preferredHyperv), ...features.hyperv };
  domain.features = features;
}

function applyFirmware(domain: Domain, p: PreferenceSpec): void {
  const f = p.firmware;
  if (f === undefined) return;
  const bootloader = { ...domain.firmware?.bootloader };
  const none = bootloader.bios === undefined && bootloader.efi === undefined;
  if (none && f.preferredUseBios === true) bootloader.bios = {};
  if (f.preferredUseBiosSerial !== undefined && bootloader.bios !== undefined) bootloader.bios = { ...bootloader.bios, useSerial: bootloader.bios.useSerial ?? f.preferredUseBiosSerial };
  if (bootloader.bios === undefined && bootloader.efi === undefined) {
    if (f.preferredEfi !== undefined) bootloader.efi = { ...f.preferredEfi };
    else if (f.preferredUseEfi === true) bootloader.efi = {};
  }
  if (f.preferredEfi === undefined && f.preferredUseSecureBoot !== undefined && bootloader.efi !== undefined) {
    bootloader.efi = { ...bootloader.efi, secureBoot: bootloader.efi.secureBoot ?? f.preferredUseSecureBoot };
  }
  if (bootloader.bios !== undefined || bootloader.efi !== undefined) domain.firmware = { ...domain.firmware, bootloader };
}

function applyClock(domain: Domain, p: PreferenceSpec): void {
  const c = p.clock;
  if (c === undefined) return;
  const clock = { ...domain.clock };
  const offset = c.preferredClockOffset;
  if (offset !== undefined && clock.utc === undefined && clock.timezone === undefined) {
    if (offset.utc !== undefined) clock.utc = { ...offset.utc };
    if (offset.timezone !== undefined) clock.timezone = offset.timezone;
  }
  if (c.preferredTimer !== undefined) clock.timer ??= structuredClone(c.preferredTimer);
  if (Object.keys(clock).length > 0) domain.clock = clock;
}
