/**
 * hostDisk volumes (KubeVirt's vmi-create-admitter rules, and the path rules
 * of its CVE-2025-64324 fix): a type of Disk or DiskOrCreate, a safe absolute
 * path, a capacity only with DiskOrCreate and required there, within bounds.
 * Whether the path's directory is allowed is the operator's setting, checked
 * where it is known (the controller, `bunvirt run`, the launcher).
 */
import { allowedDirFor, hostDiskPathProblem, notAllowedRule } from "../host-disk-dirs.ts";
import { maxHostDiskBytes } from "../limits.ts";
import { joinPath, type Problem } from "../problem.ts";
import { parseQuantity } from "../quantity.ts";
import type { VmiSpec } from "../v1/vmi.ts";

export function checkHostDisks(spec: VmiSpec, at: string): Problem[] {
  const out: Problem[] = [];
  (spec.volumes ?? []).forEach((vol, i) => {
    const hd = vol.hostDisk;
    if (hd === undefined) return;
    const here = joinPath(joinPath(joinPath(at, "volumes"), i), "hostDisk");
    const pathProblem = hostDiskPathProblem(hd.path);
    if (pathProblem !== null) out.push({ path: joinPath(here, "path"), rule: pathProblem });
    if (hd.type === "Disk" && hd.capacity !== undefined) {
      out.push({ path: joinPath(here, "capacity"), rule: `is allowed only with type "DiskOrCreate" (a "Disk" is used at the size it has)` });
    }
    if (hd.type === "DiskOrCreate" && hd.capacity === undefined) {
      out.push({ path: joinPath(here, "capacity"), rule: `is required with type "DiskOrCreate": the size of the file to create when it is missing` });
    }
    const bytes = hd.capacity === undefined ? null : parseQuantity(hd.capacity);
    if (bytes !== null && (bytes < 1 || bytes > maxHostDiskBytes)) {
      out.push({
        path: joinPath(here, "capacity"),
        rule: bytes < 1 ? `"${hd.capacity}" is not a positive size` : `"${hd.capacity}" is more than 2Pi (${maxHostDiskBytes} bytes), the largest host disk bunvirt creates`,
      });
    }
  });
  return out;
}

/**
 * The operator's setting (the validating webhook: the controller's
 * host-disk-dirs): every hostDisk path lies below an allowed directory. Not
 * part of admitVmiSpec, which knows no setting.
 */
export function checkHostDisksAllowed(spec: VmiSpec, at: string, dirs: readonly string[]): Problem[] {
  const out: Problem[] = [];
  (spec.volumes ?? []).forEach((vol, i) => {
    const path = vol.hostDisk?.path;
    if (path === undefined || allowedDirFor(path, dirs) !== null) return;
    out.push({ path: joinPath(joinPath(joinPath(joinPath(at, "volumes"), i), "hostDisk"), "path"), rule: notAllowedRule(path, dirs) });
  });
  return out;
}
