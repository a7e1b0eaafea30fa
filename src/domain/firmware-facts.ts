/**
 * The one place that decides, from the spec alone, how a VM boots: BIOS or
 * EFI, which OVMF build and variable template (Debian 12's ovmf package),
 * whether Secure Boot and SMM are on, and the kernel-boot files. The domain
 * builder (`bunvirt domain-xml`, the launcher role, `bunvirt run`) and the
 * launcher's check for missing files both read it, so they cannot disagree.
 *
 * As KubeVirt: `efi` without `secureBoot` means Secure Boot; Secure Boot needs
 * SMM. A `features.smm` given without `enabled` means on (KubeVirt's
 * FeatureState). Unlike KubeVirt, SMM left out is turned on with Secure Boot
 * instead of refused; `smm.enabled: false` with Secure Boot is refused by
 * admission (src/api/admission/firmware.ts).
 */
import { basename } from "node:path";
import type { VmiSpec } from "../api/v1/vmi.ts";

/** Where Debian 12's ovmf package puts the 4 MiB builds. */
export const ovmfDir = "/usr/share/OVMF";
export const ovmf = {
  /** Without Secure Boot: plain code, empty variables. */
  code: `${ovmfDir}/OVMF_CODE_4M.fd`,
  vars: `${ovmfDir}/OVMF_VARS_4M.fd`,
  /** Secure Boot: the SMM build, variables with Microsoft's keys enrolled (Secure Boot on). */
  secureCode: `${ovmfDir}/OVMF_CODE_4M.secboot.fd`,
  secureVars: `${ovmfDir}/OVMF_VARS_4M.ms.fd`,
} as const;

export type BootFirmware =
  | { kind: "bios"; useSerial: boolean }
  | { kind: "efi"; secureBoot: boolean; code: string; vars: string };

export interface FirmwareFacts {
  firmware: BootFirmware;
  /** System Management Mode (`<smm state='on'/>`, QEMU's `-machine smm=on`). */
  smm: boolean;
  /** The files taken from kernelBoot.container: their paths in the image and the names the launcher gives its copies. */
  kernelBoot?: { kernel: KernelBootFile; initrd?: KernelBootFile };
}

export interface KernelBootFile {
  /** Path inside the image. */
  path: string;
  /** File name of the copy in the launcher's volume directory. */
  fileName: string;
}

/** `efi` given and `secureBoot` not false. */
export function secureBootOf(spec: VmiSpec): boolean {
  const efi = spec.domain.firmware?.bootloader?.efi;
  return efi !== undefined && (efi.secureBoot ?? true);
}

/** SMM as KubeVirt reads `features.smm` (present without `enabled` = on); left out: on exactly with Secure Boot. */
export function smmOf(spec: VmiSpec): boolean {
  const smm = spec.domain.features?.smm;
  return smm === undefined ? secureBootOf(spec) : (smm.enabled ?? true);
}

/** The name the launcher's copy of a kernel-boot file has (unique per role, so kernel and initrd never collide). */
export function kernelBootFileName(what: "kernel" | "initrd", path: string): string {
  return `kernel-boot.${what}.${basename(path)}`;
}

export function firmwareFacts(spec: VmiSpec): FirmwareFacts {
  const bootloader = spec.domain.firmware?.bootloader;
  const secureBoot = secureBootOf(spec);
  const firmware: BootFirmware =
    bootloader?.efi !== undefined
      ? secureBoot
        ? { kind: "efi", secureBoot: true, code: ovmf.secureCode, vars: ovmf.secureVars }
        : { kind: "efi", secureBoot: false, code: ovmf.code, vars: ovmf.vars }
      : { kind: "bios", useSerial: bootloader?.bios?.useSerial === true };
  const c = spec.domain.firmware?.kernelBoot?.container;
  const file = (what: "kernel" | "initrd", path: string): KernelBootFile => ({ path, fileName: kernelBootFileName(what, path) });
  return {
    firmware,
    smm: smmOf(spec),
    ...(c?.kernelPath !== undefined
      ? { kernelBoot: { kernel: file("kernel", c.kernelPath), ...(c.initrdPath !== undefined ? { initrd: file("initrd", c.initrdPath) } : {}) } }
      : {}),
  };
}

/** The firmware files a spec needs on the node (none for BIOS: SeaBIOS comes with QEMU). */
export function firmwareFiles(facts: FirmwareFacts): string[] {
  return facts.firmware.kind === "efi" ? [facts.firmware.code, facts.firmware.vars] : [];
}
