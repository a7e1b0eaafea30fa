import { expect, test } from "bun:test";
import type { VmiSpec } from "../api/v1/vmi.ts";
import { ovmf } from "../domain/firmware-facts.ts";
import { checkFirmwareFiles } from "./firmware-files.ts";

const spec = (firmware: NonNullable<VmiSpec["domain"]["firmware"]>): VmiSpec => ({ domain: { firmware, devices: {} } });

test("BIOS needs no file", () => {
  expect(() => checkFirmwareFiles(spec({}), () => false)).not.toThrow();
});

test("EFI without secure boot asks only for the plain build", () => {
  const asked: string[] = [];
  checkFirmwareFiles(spec({ bootloader: { efi: { secureBoot: false } } }), (p) => (asked.push(p), true));
  expect(asked).toEqual([ovmf.code, ovmf.vars]);
});

test("a missing secure-boot build names the field and the file", () => {
  expect(() => checkFirmwareFiles(spec({ bootloader: { efi: {} } }), (p) => p !== ovmf.secureCode)).toThrow(
    `domain.firmware.bootloader.efi.secureBoot: needs the OVMF file "${ovmf.secureCode}"`,
  );
});
