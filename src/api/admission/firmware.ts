import { secureBootOf } from "../../domain/firmware-facts.ts";
import { isSafeImagePath } from "../names.ts";
import { joinPath, type Problem } from "../problem.ts";
import type { VmiSpec } from "../v1/vmi.ts";

/**
 * One bootloader at most; EFI Secure Boot only where it can work (SMM not
 * turned off, as KubeVirt refuses; a q35 machine, as libvirt refuses
 * otherwise); kernel boot with a kernel and safe absolute paths.
 */
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
  if (c !== undefined && c.kernelPath === undefined) {
    out.push({ path: joinPath(here, "kernelBoot.container.kernelPath"), rule: "is required: bunvirt boots a kernel, not an initrd alone" });
  }
  if (secureBootOf(spec)) {
    if (spec.domain.features?.smm?.enabled === false) {
      out.push({ path: joinPath(at, "domain.features.smm.enabled"), rule: "must not be false with EFI Secure Boot (bootloader.efi.secureBoot true or unset): SecureBoot requires SMM" });
    }
    const machine = spec.domain.machine?.type;
    if (machine !== undefined && machine !== "q35" && !machine.startsWith("pc-q35")) {
      out.push({ path: joinPath(at, "domain.machine.type"), rule: `"${machine}" cannot boot with EFI Secure Boot: it needs a q35 machine (q35 or pc-q35-*); set bootloader.efi.secureBoot false for another machine` });
    }
  }
  if (fw?.kernelBoot !== undefined && c === undefined && fw.kernelBoot.kernelArgs !== undefined) {
    out.push({ path: joinPath(here, "kernelBoot.kernelArgs"), rule: "kernelArgs needs kernelBoot.container with a kernel" });
  }
  return out;
}
