import { isSafeImagePath } from "../names.ts";
import { joinPath, type Problem } from "../problem.ts";
import type { VmiSpec } from "../v1/vmi.ts";

/** One bootloader at most; kernel boot paths are safe absolute paths. */
export function checkFirmware(spec: VmiSpec, at: string): Problem[] {
  const out: Problem[] = [];
  const fw = spec.domain.firmware;
  const here = joinPath(at, "domain.firmware");
  if (fw?.bootloader?.bios !== undefined && fw.bootloader.efi !== undefined) {
    out.push({ path: joinPath(here, "bootloader"), rule: "set bios or efi, not both" });
  }
  const c = fw?.kernelBoot?.container;
  for (const field of ["kernelPath", "initrdPath"] as const) {
    const p = c?.[field];
    if (p !== undefined && !isSafeImagePath(p)) {
      out.push({ path: joinPath(here, `kernelBoot.container.${field}`), rule: `"${p}" must be an absolute path, not "/", without ".." segments` });
    }
  }
  if (c !== undefined && c.kernelPath === undefined && c.initrdPath === undefined) {
    out.push({ path: joinPath(here, "kernelBoot.container"), rule: "needs kernelPath or initrdPath" });
  }
  if (fw?.kernelBoot !== undefined && c === undefined && fw.kernelBoot.kernelArgs !== undefined) {
    out.push({ path: joinPath(here, "kernelBoot.kernelArgs"), rule: "kernelArgs needs kernelBoot.container with a kernel" });
  }
  return out;
}
