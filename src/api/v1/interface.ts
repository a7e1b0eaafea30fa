/** kubevirt.io/v1 Interface: a NIC and how it binds to its network. */
import * as v from "valibot";
import { interfaceNamePattern, maxBootOrder } from "../limits.ts";
import { doc, int, marker, patterned } from "./primitives.ts";

/** The bindings bunvirt serves, by the Interface field that asks for each. */
export const interfaceBindings = ["masquerade", "bridge"] as const;
export type InterfaceBinding = (typeof interfaceBindings)[number];

/** The bindings an interface sets; admission lets through exactly one. */
export function bindingsOf(nic: Partial<Record<InterfaceBinding, object>>): InterfaceBinding[] {
  return interfaceBindings.filter((b) => nic[b] !== undefined);
}

export const interfaceModels = ["virtio", "e1000", "e1000e", "rtl8139", "pcnet", "ne2k_pci"] as const;

export const port = v.strictObject({
  name: v.optional(doc(v.string(), "A name for the port, for people reading the manifest.")),
  protocol: v.optional(doc(v.picklist(["TCP", "UDP"]), "Transport protocol of the port: TCP or UDP. Default: TCP.")),
  port: doc(int(1, 65535), "Port number inside the guest that traffic to the pod's IP is forwarded to (1-65535)."),
});

export const iface = v.strictObject({
  /** KubeVirt's rule; the name becomes the device alias in the domain. */
  name: doc(
    patterned(interfaceNamePattern, "must be made of the characters A-Z a-z 0-9 - _ (at least one)"),
    "Name of the interface; the network with the same name is the one it joins. Letters, digits, - and _ only.",
  ),
  masquerade: v.optional(doc(marker(), "Bind the NIC to the pod network behind NAT: the guest gets a private address (10.0.2.2 by default) and reaches out, and traffic to the pod's IP reaches it. Set as an empty object.")),
  bridge: v.optional(doc(marker(), "Bind the NIC to the pod's interface by a bridge: the guest receives the pod's own IP and MAC by DHCP. Set as an empty object.")),
  model: v.optional(doc(v.picklist(interfaceModels), "Emulated NIC model the guest sees. Default: virtio.")),
  macAddress: v.optional(doc(v.string(), "MAC address the guest sees, such as \"de:ad:00:00:be:af\". Default: one chosen when the VM starts.")),
  ports: v.optional(doc(v.array(port), "With masquerade: forward only these ports from the pod's IP to the guest. Default: every port is forwarded.")),
  bootOrder: v.optional(doc(int(1, maxBootOrder), "Position of network boot (PXE) on this NIC in the boot order: 1 is tried first; each value is used once across disks and interfaces. Default: no network boot.")),
});

export const network = v.strictObject({
  name: doc(v.string(), "Name of the network; the interface with the same name joins it. Unique among the networks."),
  pod: v.optional(
    doc(
      v.strictObject({
        vmNetworkCIDR: v.optional(doc(v.string(), "IPv4 network the guest lives in behind masquerade, in CIDR notation. Default: 10.0.2.0/24 (guest 10.0.2.2, gateway 10.0.2.1).")),
        vmIPv6NetworkCIDR: v.optional(doc(v.string(), "IPv6 network the guest lives in behind masquerade, in CIDR notation. Default: fd10:0:2::/120.")),
      }),
      "The pod's own network (the cluster's default network), reached through the launcher pod.",
    ),
  ),
});
