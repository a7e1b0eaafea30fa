/** kubevirt.io/v1 Disk: how a volume appears to the guest. */
import * as v from "valibot";
import { maxBootOrder, maxSerialLength, serialPattern } from "../limits.ts";
import { int } from "./primitives.ts";

export const diskBuses = ["virtio", "sata", "scsi", "usb"] as const;
export const cdromBuses = ["sata", "scsi"] as const;
export const lunBuses = ["scsi", "virtio"] as const;

const bus = v.picklist(diskBuses);

export const diskTarget = v.strictObject({ bus: v.optional(bus), readonly: v.optional(v.boolean()) });
export const cdromTarget = v.strictObject({
  bus: v.optional(bus),
  readonly: v.optional(v.boolean()),
  tray: v.optional(v.picklist(["open", "closed"])),
});
export const lunTarget = v.strictObject({ bus: v.optional(bus), readonly: v.optional(v.boolean()) });

export const diskEntries = {
  name: v.string(),
  disk: v.optional(diskTarget),
  cdrom: v.optional(cdromTarget),
  lun: v.optional(lunTarget),
  bootOrder: v.optional(int(1, maxBootOrder)),
  /** KubeVirt's rule: letters, digits and _.+- only, at most 256 characters. */
  serial: v.optional(
    v.pipe(
      v.string(),
      v.regex(serialPattern, "must be made of the characters A-Z a-z 0-9 _ . + - (at least one)"),
      v.maxLength(maxSerialLength, `must be at most ${maxSerialLength} characters`),
    ),
  ),
  cache: v.optional(v.picklist(["none", "writethrough", "writeback"])),
};

export const disk = v.strictObject(diskEntries);
