/**
 * <os>: machine type, BIOS or EFI (the OVMF build firmwareFacts picks from
 * the spec), kernel boot, and the boot device when no disk or NIC names a
 * boot order.
 */
import { DomainError, type Configurator } from "../context.ts";
import { firmwareFacts } from "../firmware-facts.ts";
import { el } from "../xml.ts";

export const firmware: Configurator = ({ spec, facts }) => {
  const fw = spec.domain.firmware;
  const machine = spec.domain.machine?.type ?? "q35";
  const children = [el("type", { arch: "x86_64", machine }, "hvm")];
  const boot = firmwareFacts(spec).firmware;
  if (boot.kind === "efi") {
    children.push(
      el("loader", { readonly: "yes", secure: boot.secureBoot ? "yes" : "no", type: "pflash" }, boot.code),
      el("nvram", { template: boot.vars }),
    );
  }
  if (boot.kind === "bios" && boot.useSerial) children.push(el("bios", { useserial: "yes" }));
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
