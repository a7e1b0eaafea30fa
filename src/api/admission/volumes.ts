import { maxDiskBytes } from "../limits.ts";
import { dns1123SubdomainRule, isDns1123Subdomain, isSafeImagePath } from "../names.ts";
import { parseQuantity } from "../quantity.ts";
import { joinPath, type Problem } from "../problem.ts";
import type { VmiSpec } from "../v1/vmi.ts";
import { volumeSourceNames } from "../v1/volume.ts";

/** Volume names are unique and each volume has exactly one source (one without a disk gets one, see defaults.ts). */
export function checkVolumes(spec: VmiSpec, at: string): Problem[] {
  const out: Problem[] = [];
  const volumes = spec.volumes ?? [];
  const seen = new Set<string>();
  volumes.forEach((vol, i) => {
    const here = joinPath(joinPath(at, "volumes"), i);
    if (seen.has(vol.name)) out.push({ path: joinPath(here, "name"), rule: `volume name "${vol.name}" is used more than once; volume names must be unique` });
    seen.add(vol.name);
    const sources = volumeSourceNames.filter((k) => vol[k] !== undefined);
    if (sources.length !== 1) {
      out.push({
        path: here,
        rule: sources.length === 0
          ? `volume "${vol.name}" has no source; set exactly one of ${volumeSourceNames.join(", ")}`
          : `volume "${vol.name}" has ${sources.length} sources (${sources.join(", ")}); set exactly one`,
      });
    }
    const path = vol.containerDisk?.path;
    if (path !== undefined && !isSafeImagePath(path)) {
      out.push({ path: joinPath(joinPath(here, "containerDisk"), "path"), rule: `"${path}" must be an absolute path, not "/", without ".." segments` });
    }
    const dv = vol.dataVolume;
    if (dv !== undefined && !isDns1123Subdomain(dv.name)) out.push({ path: joinPath(joinPath(here, "dataVolume"), "name"), rule: `"${dv.name}" ${dns1123SubdomainRule}` });
    if (dv?.hotpluggable === true) {
      out.push({ path: joinPath(joinPath(here, "dataVolume"), "hotpluggable"), rule: "bunvirt does not hotplug volumes; the DataVolume's claim is attached when the VM starts: leave hotpluggable out or false" });
    }
    const capacity = vol.emptyDisk?.capacity;
    const bytes = capacity === undefined ? null : parseQuantity(capacity);
    if (bytes !== null && (bytes < 1 || bytes > maxDiskBytes)) {
      out.push({
        path: joinPath(joinPath(here, "emptyDisk"), "capacity"),
        rule: bytes < 1
          ? `"${capacity}" is not a positive size`
          : `"${capacity}" is more than 2Pi (${maxDiskBytes} bytes), the largest qcow2 image qemu-img creates with 64 KiB clusters`,
      });
    }
  });
  return out;
}
