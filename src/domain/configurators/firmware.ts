/**
 * <os>: machine type, BIOS or EFI (OVMF from the launcher's facts), kernel
 * boot, and the boot device when no disk or NIC names a boot order.
 */
import { DomainError, type Configurator } from "../context.ts";
import { el } from "../xml.ts";

export const firmware: Configurator = ({ spec, facts }) => {
  const fw = spec.domain.firmware;
  const machine = spec.domain.machine?.type ?? "q35";
  const children = [el("type", { arch: "x86_64", machine }, "hvm")];
  const efi = fw?.bootloader?.efi;
  if (efi !== undefined) {
    if (facts.efi === undefined) throw new DomainError("domain.firmware.bootloader.efi", "EFI boot needs OVMF firmware, and the launcher found none");
    const secure = efi.secureBoot ?? true;
    if (secure && !facts.efi.secureBoot) throw new DomainError("domain.firmware.bootloader.efi.secureBoot", "secure boot needs a secure-boot OVMF build, and the launcher found none");
    children.push(
      el("loader", { readonly: "yes", secure: secure ? "yes" : "no", type: "pflash" }, facts.efi.code),
      el("nvram", { template: facts.efi.vars }),
    );
  }
  if (fw?.bootloader?.bios?.useSerial === true) children.push(el("bios", { useserial: "yes" }));
  const kb = fw?.kernelBoot;
  if (kb?.container !== undefined) {
    if (facts.kernelBoot === undefined) throw new DomainError("domain.firmware.kernelBoot.container", "kernel boot needs the kernel extracted by the launcher, and there is none");
    children.push(el("kernel", {}, facts.kernelBoot.kernel));
    if (facts.kernelBoot.initrd !== undefined) children.push(el("initrd", {}, facts.kernelBoot.initrd));
    if (kb.kernelArgs !== undefined) children.push(el("cmdline", {}, kb.kernelArgs));
  }
  const devices = spec.domain.devices;
  const anyBootOrder = [...(devices.disks ?? []), ...(devices.interfaces ?? [])].some((d) => d.bootOrder !== undefined);
  if (!anyBootOrder && kb?.container === undefined) children.push(el("boot", { dev: "hd" }));
  return { os: [el("os", {}, ...children)] };
};
