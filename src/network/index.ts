/**
 * Pod networking for VMs: inside the launcher pod's network namespace,
 * connect each VMI interface to the pod network (masquerade or bridge
 * binding) and serve the guest its lease by DHCP.
 */
export { setupNetworking, bindings } from "./setup-networking.ts";
export type { Networking, NetworkingOptions } from "./setup-networking.ts";
export { bindingKinds } from "./binding.ts";
export { vmiAddresses } from "./vmi-addresses.ts";
export type { BindingContext, BindingFactory, BindingKind, BindingResult, NetworkBinding } from "./binding.ts";
export { masqueradeBinding, defaultVmNetworkCIDR, defaultVmIPv6NetworkCIDR } from "./masquerade/binding.ts";
export { masqueradeTableBody } from "./masquerade/rules.ts";
export { bridgeBinding } from "./bridge/binding.ts";
export { bridgeLease, BRIDGE_SERVER_ADDRESS } from "./bridge/lease.ts";
export { defaultStateDir, statePath } from "./state.ts";
export { bridgeName, contextProblems } from "./validate.ts";
export { namespaceSnapshot } from "./snapshot.ts";
export type { NamespaceSnapshot } from "./snapshot.ts";
export type { Interface, Network, Port } from "./spec.ts";
