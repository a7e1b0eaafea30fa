/**
 * Disks: each VMI disk on its prepared volume. Target names follow the bus
 * (vdX on virtio, sdX on sata/scsi/usb), counted per prefix in disk order, as
 * KubeVirt names them. Controllers are added for the buses that need one.
 */
import type { Configurator } from "../context.ts";
import { DomainError } from "../context.ts";
import { userAlias } from "../device-names.ts";
import { el, type XmlNode } from "../xml.ts";

/** "a".."z", "aa".."zz", ... for index 0, 1, ... */
export function driveLetters(index: number): string {
  let n = index;
  let s = "";
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return s;
}

export const disks: Configurator = ({ spec, facts }) => {
  const counters = { vd: 0, sd: 0 };
  const out: XmlNode[] = [];
  const buses = new Set<string>();
  (spec.domain.devices.disks ?? []).forEach((d, i) => {
    const path = `domain.devices.disks[${i}]`;
    const vol = facts.volumes[d.name];
    if (vol === undefined) throw new DomainError(path, `disk "${d.name}" has no prepared volume`);
    const device = d.cdrom !== undefined ? "cdrom" : d.lun !== undefined ? "lun" : "disk";
    const target = d.cdrom ?? d.lun ?? d.disk ?? {};
    const bus = target.bus ?? (device === "cdrom" ? "sata" : device === "lun" ? "scsi" : "virtio");
    if (device === "lun" && vol.kind !== "block") throw new DomainError(path, `lun disk "${d.name}" needs a block volume, but "${vol.path}" is a file`);
    buses.add(bus);
    const prefix = bus === "virtio" ? "vd" : "sd";
    const dev = prefix + driveLetters(counters[prefix]++);
    const readOnly = device === "cdrom" ? (d.cdrom?.readonly ?? true) : (target.readonly ?? false) || vol.readOnly === true;
    const format = vol.kind === "file" ? vol.format : "raw";
    out.push(
      el("disk", { type: vol.kind, device },
        el("driver", { name: "qemu", type: format, cache: d.cache, error_policy: device === "cdrom" ? undefined : "stop", discard: device === "disk" ? "unmap" : undefined }),
        el("source", vol.kind === "file" ? { file: vol.path } : { dev: vol.path },
          // A host disk is the user's file: libvirt must not chown it to QEMU's user.
          vol.kind === "file" && vol.keepOwner === true && el("seclabel", { model: "dac", relabel: "no" })),
        // The shared read-only image under an overlay: libvirt must not take it over
        // for this VM's QEMU user (it would chown it and never give it back).
        vol.kind === "file" && vol.backing !== undefined &&
          el("backingStore", { type: "file" },
            el("format", { type: vol.backing.format }),
            el("source", { file: vol.backing.path }, el("seclabel", { model: "dac", relabel: "no" })),
            el("backingStore")),
        el("target", { dev, bus }),
        readOnly && el("readonly"),
        d.serial !== undefined && el("serial", {}, d.serial),
        d.bootOrder !== undefined && el("boot", { order: d.bootOrder }),
        el("alias", { name: userAlias(d.name) })),
    );
  });
  const controllers: XmlNode[] = [];
  if (buses.has("scsi")) controllers.push(el("controller", { type: "scsi", index: 0, model: "virtio-scsi" }));
  return { disks: out, controllers };
};
