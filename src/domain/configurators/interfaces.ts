/**
 * NICs: every interface, whatever its binding, is an ethernet device on the
 * tap the network binding made (libvirt does not manage the tap), with the
 * MAC the binding chose and the pod network's MTU.
 */
import { normalizeMac } from "../../api/mac.ts";
import type { Configurator } from "../context.ts";
import { DomainError } from "../context.ts";
import { userAlias } from "../device-names.ts";
import { el } from "../xml.ts";

export const interfaces: Configurator = ({ spec, facts }) => ({
  interfaces: (spec.domain.devices.interfaces ?? []).map((nic, i) => {
    const prepared = facts.interfaces[nic.name];
    if (prepared === undefined) throw new DomainError(`domain.devices.interfaces[${i}]`, `interface "${nic.name}" has no prepared tap device`);
    const mac = normalizeMac(prepared.mac);
    if (mac === null) throw new DomainError(`domain.devices.interfaces[${i}].macAddress`, `"${prepared.mac}" is not a MAC address`);
    const model = nic.model ?? "virtio";
    return el("interface", { type: "ethernet" },
      el("mac", { address: mac }),
      el("target", { dev: prepared.tap, managed: "no" }),
      el("model", { type: model }),
      prepared.mtu !== undefined && el("mtu", { size: prepared.mtu }),
      nic.bootOrder !== undefined ? el("boot", { order: nic.bootOrder }) : model === "virtio" && el("rom", { enabled: "no" }),
      el("alias", { name: userAlias(nic.name) }));
  }),
});
