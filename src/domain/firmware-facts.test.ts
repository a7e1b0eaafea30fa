import { describe, expect, test } from "bun:test";
import type { VmiSpec } from "../api/v1/vmi.ts";
import { firmwareFacts, firmwareFiles, ovmf } from "./firmware-facts.ts";

type Domain = VmiSpec["domain"];
const spec = (domain: Partial<Domain>): VmiSpec => ({ domain: { devices: {}, ...domain } });

describe("firmwareFacts", () => {
  test("no firmware: BIOS, no SMM, no files", () => {
    const f = firmwareFacts(spec({}));
    expect(f).toEqual({ firmware: { kind: "bios", useSerial: false }, smm: false });
    expect(firmwareFiles(f)).toEqual([]);
  });
  test("BIOS with serial output", () => {
    expect(firmwareFacts(spec({ firmware: { bootloader: { bios: { useSerial: true } } } })).firmware).toEqual({ kind: "bios", useSerial: true });
  });
  test("efi without secureBoot: Secure Boot (KubeVirt's default), the SMM build, Microsoft's keys, SMM on", () => {
    const f = firmwareFacts(spec({ firmware: { bootloader: { efi: {} } } }));
    expect(f).toEqual({ firmware: { kind: "efi", secureBoot: true, code: ovmf.secureCode, vars: ovmf.secureVars }, smm: true });
    expect(firmwareFiles(f)).toEqual(["/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"]);
  });
  test("efi with secureBoot true, SMM asked for", () => {
    expect(firmwareFacts(spec({ firmware: { bootloader: { efi: { secureBoot: true } } }, features: { smm: { enabled: true } } }))).toEqual({
      firmware: { kind: "efi", secureBoot: true, code: ovmf.secureCode, vars: ovmf.secureVars },
      smm: true,
    });
  });
  test("efi with secureBoot false: the plain build and empty variables, no SMM", () => {
    const f = firmwareFacts(spec({ firmware: { bootloader: { efi: { secureBoot: false } } } }));
    expect(f).toEqual({ firmware: { kind: "efi", secureBoot: false, code: ovmf.code, vars: ovmf.vars }, smm: false });
    expect(firmwareFiles(f)).toEqual(["/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"]);
  });
  test("SMM: given without enabled is on, enabled false is off, independent of the bootloader when given", () => {
    expect(firmwareFacts(spec({ features: { smm: {} } })).smm).toBe(true);
    expect(firmwareFacts(spec({ features: { smm: { enabled: false } } })).smm).toBe(false);
    expect(firmwareFacts(spec({ firmware: { bootloader: { efi: { secureBoot: false } } }, features: { smm: { enabled: true } } })).smm).toBe(true);
  });
  test("kernel boot: the image paths and the names of the launcher's copies", () => {
    const f = firmwareFacts(spec({ firmware: { kernelBoot: { container: { image: "k", kernelPath: "/boot/vmlinuz", initrdPath: "/boot/initrd.gz" } } } }));
    expect(f.kernelBoot).toEqual({
      kernel: { path: "/boot/vmlinuz", fileName: "kernel-boot.kernel.vmlinuz" },
      initrd: { path: "/boot/initrd.gz", fileName: "kernel-boot.initrd.initrd.gz" },
    });
  });
  test("Debian 12's ovmf package installs every file named", () => {
    // The paths are those `dpkg -L ovmf` lists on Debian 12 (2022.11-6+deb12u2).
    expect(Object.values(ovmf).sort()).toEqual([
      "/usr/share/OVMF/OVMF_CODE_4M.fd",
      "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
      "/usr/share/OVMF/OVMF_VARS_4M.fd",
      "/usr/share/OVMF/OVMF_VARS_4M.ms.fd",
    ]);
  });
});
