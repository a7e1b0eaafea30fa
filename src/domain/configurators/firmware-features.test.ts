import { describe, expect, test } from "bun:test";
import { ctxOf, render } from "../../../tests/lib/domain.ts";
import { features } from "./features.ts";
import { firmware } from "./firmware.ts";

describe("firmware", () => {
  test("BIOS, default q35, boot from disk", () => {
    expect(render(firmware(ctxOf({}))).os).toEqual(["<os><type arch='x86_64' machine='q35'>hvm</type><boot dev='hd'/></os>"]);
  });
  test("BIOS with serial output and a machine type", () => {
    expect(render(firmware(ctxOf({ machine: { type: "pc-q35-7.2" }, firmware: { bootloader: { bios: { useSerial: true } } } }))).os).toEqual([
      "<os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><bios useserial='yes'/><boot dev='hd'/></os>",
    ]);
  });
  test("EFI: secure boot by default, the secure-boot OVMF build with Microsoft's keys", () => {
    expect(render(firmware(ctxOf({ firmware: { bootloader: { efi: {} } } }))).os).toEqual([
      "<os><type arch='x86_64' machine='q35'>hvm</type><loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.secboot.fd</loader><nvram template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd'/><boot dev='hd'/></os>",
    ]);
  });
  test("EFI with secureBoot false: the plain OVMF build, whatever the facts", () => {
    expect(render(firmware(ctxOf({ firmware: { bootloader: { efi: { secureBoot: false } } } }))).os).toEqual([
      "<os><type arch='x86_64' machine='q35'>hvm</type><loader readonly='yes' secure='no' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader><nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/><boot dev='hd'/></os>",
    ]);
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
  test("smm given without enabled is on (KubeVirt's FeatureState)", () => expect(render(features(ctxOf({ features: { smm: {} } }))).features).toEqual(["<features><acpi/><apic/><smm state='on'/></features>"]));
  test("disabled acpi, explicit smm", () => expect(render(features(ctxOf({ features: { acpi: { enabled: false }, smm: { enabled: true } } }))).features).toEqual(["<features><apic/><smm state='on'/></features>"]));
});
