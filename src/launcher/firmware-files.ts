/**
 * Before a domain is defined: the firmware files the spec needs (as
 * firmwareFacts names them) are on this node, else an error naming the field
 * and the file instead of libvirt's.
 */
import { statSync } from "node:fs";
import type { VmiSpec } from "../api/v1/vmi.ts";
import { firmwareFacts, firmwareFiles } from "../domain/firmware-facts.ts";

export function checkFirmwareFiles(spec: VmiSpec, isFile: (path: string) => boolean = regularFile): void {
  const facts = firmwareFacts(spec);
  for (const file of firmwareFiles(facts)) {
    if (!isFile(file)) {
      const field = facts.firmware.kind === "efi" && facts.firmware.secureBoot ? "domain.firmware.bootloader.efi.secureBoot" : "domain.firmware.bootloader.efi";
      throw new Error(`${field}: needs the OVMF file "${file}" (Debian's ovmf package), which is not on this node`);
    }
  }
}

function regularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
