import { describe, expect, test } from "bun:test";
import { ctxOf, render } from "../../../tests/lib/domain.ts";
import { features } from "./features.ts";
import { firmware } from "./firmware.ts";

const ovmf = { code: "/ovmf/CODE.secboot.fd", vars: "/ovmf/VARS.ms.fd", secureBoot: true };

describe("firmware", () => {
  test("BIOS, default q35, boot from disk", () => {
    expect(render(firmware(ctxOf({}))).os).toEqual(["<os><type arch='x86_64' machine='q35'>hvm</type><boot dev='hd'/></os>"]);
  });
  test("BIOS with serial output and a machine type", () => {
    expect(render(firmware(ctxOf({ machine: { type: "pc-q35-7.2" }, firmware: { bootloader: { bios: { useSerial: true } } } }))).os).toEqual([
      "<os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><bios useserial='yes'/><boot dev='hd'/></os>",
    ]);
  });
  test("EFI secure boot with OVMF from the facts", () => {
    expect(render(firmware(ctxOf({ firmware: { bootloader: { efi: {} } } }, { efi: ovmf }))).os).toEqual([
      "<os><type arch='x86_64' machine='q35'>hvm</type><loader readonly='yes' secure='yes' type='pflash'>/ovmf/CODE.secboot.fd</loader><nvram template='/ovmf/VARS.ms.fd'/><boot dev='hd'/></os>",
    ]);
  });
  test("EFI without OVMF is an error", () => {
    expect(() => firmware(ctxOf({ firmware: { bootloader: { efi: {} } } }))).toThrow("domain.firmware.bootloader.efi: EFI boot needs OVMF");
  });
  test("secure boot with a non-secure OVMF is an error", () => {
    expect(() => firmware(ctxOf({ firmware: { bootloader: { efi: { secureBoot: true } } } }, { efi: { ...ovmf, secureBoot: false } }))).toThrow("secureBoot: secure boot needs");
  });
  test("kernel boot: kernel, initrd, cmdline, no boot device", () => {
    const ctx = ctxOf({ firmware: { kernelBoot: { kernelArgs: "console=ttyS0", container: { image: "k", kernelPath: "/boot/vmlinuz" } } } }, { kernelBoot: { kernel: "/k/vmlinuz", initrd: "/k/initrd" } });
    expect(render(firmware(ctx)).os).toEqual(["<os><type arch='x86_64' machine='q35'>hvm</type><kernel>/k/vmlinuz</kernel><initrd>/k/initrd</initrd><cmdline>console=ttyS0</cmdline></os>"]);
  });
  test("kernel boot without the extracted kernel is an error", () => {
    expect(() => firmware(ctxOf({ firmware: { kernelBoot: { container: { image: "k", kernelPath: "/v" } } } }))).toThrow("kernelBoot.container: kernel boot needs");
  });
  test("a device boot order replaces the boot device", () => {
    const ctx = ctxOf({ devices: { disks: [{ name: "a", bootOrder: 1 }] } });
    expect(render(firmware(ctx)).os).toEqual(["<os><type arch='x86_64' machine='q35'>hvm</type></os>"]);
  });
});

describe("features", () => {
  test("acpi and apic by default", () => expect(render(features(ctxOf({}))).features).toEqual(["<features><acpi/><apic/></features>"]));
  test("smm for EFI secure boot", () => expect(render(features(ctxOf({ firmware: { bootloader: { efi: {} } } }))).features).toEqual(["<features><acpi/><apic/><smm state='on'/></features>"]));
  test("no smm for EFI without secure boot", () => expect(render(features(ctxOf({ firmware: { bootloader: { efi: { secureBoot: false } } } }))).features).toEqual(["<features><acpi/><apic/></features>"]));
  test("disabled acpi, explicit smm", () => expect(render(features(ctxOf({ features: { acpi: { enabled: false }, smm: { enabled: true } } }))).features).toEqual(["<features><apic/><smm state='on'/></features>"]));
});
