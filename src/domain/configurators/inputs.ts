/**
 * Input devices (a tablet on usb or virtio), and the one USB controller:
 * qemu-xhci when a disk or an input is on usb, else none at all, since
 * libvirt would add one by default and the firmware spends boot time probing
 * it (KubeVirt leaves it out as well).
 */
import type { Configurator } from "../context.ts";
import { userAlias } from "../device-names.ts";
import { el } from "../xml.ts";

export const inputs: Configurator = ({ spec }) => {
  const devices = spec.domain.devices;
  const list = devices.inputs ?? [];
  const usb = list.some((i) => i.bus === "usb") || (devices.disks ?? []).some((d) => [d.disk?.bus, d.cdrom?.bus, d.lun?.bus].includes("usb"));
  return {
    controllers: [usb ? el("controller", { type: "usb", index: 0, model: "qemu-xhci" }) : el("controller", { type: "usb", model: "none" })],
    inputs: list.map((i) => el("input", { type: i.type, bus: i.bus ?? "usb" }, el("alias", { name: userAlias(i.name) }))),
  };
};
