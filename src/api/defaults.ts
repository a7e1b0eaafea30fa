/**
 * KubeVirt's defaults, applied the way its mutating webhook does: a volume
 * that no disk uses gets a disk of its name (appended, in the volumes'
 * order), a disk with no target is a virtio disk, a cdrom sits on sata and is read-only, a lun on
 * scsi, a NIC model is virtio, an input is on usb, the machine is q35, and a VMI without
 * interfaces or networks gets the pod network with masquerade
 * (autoattachPodInterface); a Hyper-V enlightenment that is on turns on what
 * it needs when that is not set (hyperv-dependencies.ts). Pure: returns a new spec.
 */
import { walkHypervNeeds } from "./hyperv-dependencies.ts";
import { parseQuantity } from "./quantity.ts";
import type { VmiSpec } from "./v1/vmi.ts";

type Disk = NonNullable<VmiSpec["domain"]["devices"]["disks"]>[number];

export const defaultMachineType = "q35";
export const defaultInterfaceName = "default";

export function applyVmiDefaults(input: VmiSpec): VmiSpec {
  const spec = structuredClone(input);
  const devices = spec.domain.devices;
  const used = new Set((devices.disks ?? []).map((d) => d.name));
  const unused = (spec.volumes ?? []).filter((v) => !used.has(v.name)).map((v): Disk => ({ name: v.name }));
  devices.disks = [...(devices.disks ?? []), ...unused].map((d) => {
    if (d.cdrom !== undefined) return { ...d, cdrom: { ...d.cdrom, bus: d.cdrom.bus ?? "sata", readonly: d.cdrom.readonly ?? true } };
    if (d.lun !== undefined) return { ...d, lun: { ...d.lun, bus: d.lun.bus ?? "scsi" } };
    return { ...d, disk: { ...d.disk, bus: d.disk?.bus ?? "virtio" } };
  });
  const noNetworking = (devices.interfaces ?? []).length === 0 && (spec.networks ?? []).length === 0;
  if (noNetworking && devices.autoattachPodInterface !== false) {
    devices.interfaces = [{ name: defaultInterfaceName, masquerade: {} }];
    spec.networks = [{ name: defaultInterfaceName, pod: {} }];
  }
  devices.interfaces = (devices.interfaces ?? []).map((i) => ({ ...i, model: i.model ?? "virtio" }));
  if (devices.inputs !== undefined) devices.inputs = devices.inputs.map((i) => ({ ...i, bus: i.bus ?? "usb" }));
  spec.domain.machine = { ...spec.domain.machine, type: spec.domain.machine?.type ?? defaultMachineType };
  const sockets = socketsFromResources(spec);
  if (sockets !== undefined) spec.domain.cpu = { ...spec.domain.cpu, sockets };
  const hyperv = spec.domain.features?.hyperv;
  if (hyperv !== undefined) for (const name of walkHypervNeeds(hyperv).turnedOn) hyperv[name] = { enabled: true };
  return spec;
}

/** Sockets for a VMI without a topology: its CPU limit, else its request, rounded up; undefined when it has a topology or neither. */
function socketsFromResources(spec: VmiSpec): number | undefined {
  const c = spec.domain.cpu;
  if (c?.sockets !== undefined || c?.cores !== undefined || c?.threads !== undefined) return undefined;
  const r = spec.domain.resources;
  const cpu = parseQuantity(r?.limits?.cpu ?? r?.requests?.cpu ?? 0);
  return cpu !== null && cpu > 1 ? Math.ceil(cpu) : undefined;
}
