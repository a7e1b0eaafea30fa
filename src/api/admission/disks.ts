import { isDns1123Label } from "../names.ts";
import { joinPath, type Problem } from "../problem.ts";
import type { VmiSpec } from "../v1/vmi.ts";
import { cdromBuses, lunBuses } from "../v1/disk.ts";

const targets = ["disk", "cdrom", "lun"] as const;

/** Disk names, their volumes, and which bus each kind of disk may sit on. */
export function checkDisks(spec: VmiSpec, at: string): Problem[] {
  const out: Problem[] = [];
  const volumeNames = new Set((spec.volumes ?? []).map((v) => v.name));
  const seen = new Set<string>();
  (spec.domain.devices.disks ?? []).forEach((d, i) => {
    const here = joinPath(joinPath(at, "domain.devices.disks"), i);
    if (!isDns1123Label(d.name)) {
      out.push({ path: joinPath(here, "name"), rule: `"${d.name}" must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit)` });
    }
    if (seen.has(d.name)) out.push({ path: joinPath(here, "name"), rule: `disk name "${d.name}" is used more than once; disk names must be unique` });
    seen.add(d.name);
    if (!volumeNames.has(d.name)) out.push({ path: joinPath(here, "name"), rule: `disk "${d.name}" has no volume of the same name` });
    const kinds = targets.filter((t) => d[t] !== undefined);
    if (kinds.length > 1) out.push({ path: here, rule: `disk "${d.name}" sets ${kinds.join(" and ")}; set at most one of disk, cdrom, lun` });
    if (d.disk?.bus === "sata" && d.disk.readonly === true) {
      out.push({ path: joinPath(here, "disk.readonly"), rule: "a sata disk cannot be read-only; use a cdrom or another bus" });
    }
    if (d.cdrom?.bus !== undefined && !(cdromBuses as readonly string[]).includes(d.cdrom.bus)) {
      out.push({ path: joinPath(here, "cdrom.bus"), rule: `"${d.cdrom.bus}" is not allowed for a cdrom; must be one of ${cdromBuses.join(", ")}` });
    }
    if (d.lun?.bus !== undefined && !(lunBuses as readonly string[]).includes(d.lun.bus)) {
      out.push({ path: joinPath(here, "lun.bus"), rule: `"${d.lun.bus}" is not allowed for a lun; must be one of ${lunBuses.join(", ")}` });
    }
  });
  return out;
}
