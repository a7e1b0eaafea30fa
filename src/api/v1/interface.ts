/** kubevirt.io/v1 Interface: a NIC and how it binds to its network. */
import * as v from "valibot";
import { interfaceNamePattern, maxBootOrder } from "../limits.ts";
import { int, marker, patterned } from "./primitives.ts";

/** The bindings bunvirt serves, by the Interface field that asks for each. */
export const interfaceBindings = ["masquerade", "bridge"] as const;
export type InterfaceBinding = (typeof interfaceBindings)[number];

/** The bindings an interface sets; admission lets through exactly one. */
export function bindingsOf(nic: Partial<Record<InterfaceBinding, object>>): InterfaceBinding[] {
  return interfaceBindings.filter((b) => nic[b] !== undefined);
}

export const interfaceModels = ["virtio", "e1000", "e1000e", "rtl8139", "pcnet", "ne2k_pci"] as const;

export const port = v.strictObject({
  name: v.optional(v.string()),
  protocol: v.optional(v.picklist(["TCP", "UDP"])),
  port: int(1, 65535),
});

export const iface = v.strictObject({
  /** KubeVirt's rule; the name becomes the device alias in the domain. */
  name: patterned(interfaceNamePattern, "must be made of the characters A-Z a-z 0-9 - _ (at least one)"),
  masquerade: v.optional(marker()),
  bridge: v.optional(marker()),
  model: v.optional(v.picklist(interfaceModels)),
  macAddress: v.optional(v.string()),
  ports: v.optional(v.array(port)),
  bootOrder: v.optional(int(1, maxBootOrder)),
});

export const network = v.strictObject({
  name: v.string(),
  pod: v.optional(
    v.strictObject({ vmNetworkCIDR: v.optional(v.string()), vmIPv6NetworkCIDR: v.optional(v.string()) }),
  ),
});
