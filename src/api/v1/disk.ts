/** kubevirt.io/v1 Disk: how a volume appears to the guest. */
import * as v from "valibot";
import { maxBootOrder, maxSerialLength, serialPattern } from "../limits.ts";
import { doc, int } from "./primitives.ts";

export const diskBuses = ["virtio", "sata", "scsi", "usb"] as const;
export const cdromBuses = ["sata", "scsi"] as const;
export const lunBuses = ["scsi", "virtio"] as const;

const bus = v.picklist(diskBuses);

export const diskTarget = v.strictObject({
  bus: v.optional(doc(bus, "Controller the disk hangs on in the guest: virtio, sata, scsi or usb. Default: virtio.")),
  readonly: v.optional(doc(v.boolean(), "Give the guest the disk read-only. Default: false.")),
});
export const cdromTarget = v.strictObject({
  bus: v.optional(doc(bus, "Controller the CD-ROM drive hangs on: sata or scsi (virtio cannot carry a CD-ROM). Default: sata.")),
  readonly: v.optional(doc(v.boolean(), "A CD-ROM is always read-only. Default: true.")),
  tray: v.optional(doc(v.picklist(["open", "closed"]), "Whether the drive's tray is open (no medium seen) or closed. Default: closed.")),
});
export const lunTarget = v.strictObject({
  bus: v.optional(doc(bus, "Controller the LUN is passed through on: scsi or virtio. Default: scsi.")),
  readonly: v.optional(doc(v.boolean(), "Give the guest the LUN read-only. Default: false.")),
});

export const diskEntries = {
  name: doc(v.string(), "Name of the disk; the volume with the same name supplies its bytes. A DNS-1123 label, unique among the disks."),
  disk: v.optional(doc(diskTarget, "Show the volume as a plain block disk. This is what a disk with no target gets.")),
  cdrom: v.optional(doc(cdromTarget, "Show the volume as a CD-ROM drive.")),
  lun: v.optional(doc(lunTarget, "Show the volume as a SCSI logical unit, passing SCSI commands through.")),
  bootOrder: v.optional(doc(int(1, maxBootOrder), "Position of this disk in the boot order: 1 is tried first; each value is used once across disks and interfaces. Once any disk or interface has one, those without are not booted from. Default: none (the first disk boots).")),
  /** KubeVirt's rule: letters, digits and _.+- only, at most 256 characters. */
  serial: v.optional(
    doc(
      v.pipe(
        v.string(),
        v.regex(serialPattern, "must be made of the characters A-Z a-z 0-9 _ . + - (at least one)"),
        v.maxLength(maxSerialLength, `must be at most ${maxSerialLength} characters`),
      ),
      "Serial number the guest reads from the disk (e.g. under /dev/disk/by-id). Letters, digits and _ . + - only.",
    ),
  ),
  cache: v.optional(doc(v.picklist(["none", "writethrough", "writeback"]), "Host page cache mode for the disk: none (no host cache, direct I/O), writethrough (cached, each write reaches the medium before it completes) or writeback (cached). Default: libvirt's default for the disk.")),
};

export const disk = v.strictObject(diskEntries);
