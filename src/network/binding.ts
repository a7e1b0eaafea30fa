/**
 * A network binding connects one VMI interface to the pod network from
 * inside the launcher pod's network namespace (the current one): it builds
 * what QEMU's NIC plugs into (a tap on a bridge) and says what the guest's
 * DHCP lease must hold. Two exist: masquerade (NAT behind the pod IP,
 * KubeVirt's default) and bridge (the VM takes over the pod's IP and MAC).
 *
 * Contract (tests/contracts/network-binding.ts runs it against both):
 * - setup() refuses bad input before it changes anything;
 * - setup() is idempotent: run again (in the same process or after a
 *   launcher restart, with the same state directory) it reuses what exists
 *   and returns the same result;
 * - teardown() puts the namespace back as setup found it (addresses, links,
 *   routes, nftables ruleset, sysctls) and is idempotent.
 */
import { type InterfaceBinding, interfaceBindings } from "../api/v1/interface.ts";
import type { Interface, Network } from "./spec.ts";
import type { PreparedInterface } from "../domain/facts.ts";
import type { LeaseConfig } from "./dhcp/index.ts";

/** The bindings, as the API names them. */
export type BindingKind = InterfaceBinding;

export const bindingKinds: readonly BindingKind[] = interfaceBindings;

export interface BindingContext {
  /** The pod's interface as CNI left it (default "eth0"). */
  podInterface: string;
  /** Tap device QEMU opens (KubeVirt: "tap0"). At most 15 characters. */
  tap: string;
  /**
   * Use an existing device as the tap instead of creating one (tests attach
   * a veth whose peer stands in for the guest). Teardown then detaches it
   * and restores its MTU and up/down state, but does not delete it.
   */
  existingTap?: boolean;
  /** Owner uid of the tap (default 0, root). */
  tapOwner?: number;
  /** Create the tap with IFF_MULTI_QUEUE (QEMU must then open it with queues > 1). Default false. */
  multiQueue?: boolean;
  /** Where the binding keeps what it must remember across restarts (see state.ts). */
  stateDir: string;
  /** The pod's resolv.conf, for the DNS servers and search list (default "/etc/resolv.conf"). */
  resolvConf?: string;
  /** Host name handed to the guest by DHCP. */
  hostname?: string;
  /** MAC for the guest when the interface sets none (masquerade; bridge uses the pod's MAC). Random (and remembered) when absent. */
  defaultMac?: string;
  log?: (line: string) => void;
}

/** What setup prepared; a PreparedInterface for the domain converter plus what DHCP and status need. */
export interface BindingResult extends PreparedInterface {
  /** The VMI interface's name. */
  name: string;
  binding: BindingKind;
  tap: string;
  mac: string;
  mtu: number;
  /** The pod interface the binding uses. */
  podInterface: string;
  /** The bridge the tap is attached to (also where the DHCP server listens). */
  bridge: string;
  /** The pod's IPv4 address (masquerade: still on the pod interface; bridge: now the guest's). */
  podAddress: string;
  /** The pod's addresses the binding works with, "ADDRESS/PREFIX", IPv4 first. */
  podAddresses: string[];
  /** The guest's IPv4 address. */
  guestAddress: string;
  /** The guest's addresses, "ADDRESS/PREFIX", IPv4 first (IPv6 only when the pod has a global IPv6 address). */
  guestAddresses: string[];
  /** The DHCPv4 server the guest needs: interface to serve on and the lease. */
  dhcp: { iface: string; lease: LeaseConfig };
}

export interface NetworkBinding {
  readonly kind: BindingKind;
  /** The VMI interface's name. */
  readonly name: string;
  setup(ctx: BindingContext): Promise<BindingResult>;
  /** Undoes setup. Without `ctx`, uses the one setup was given (throws when there was none). */
  teardown(ctx?: BindingContext): Promise<void>;
}

/** Makes the binding of one VMI interface; `network` is the network of the same name (undefined when missing). */
export type BindingFactory = (nic: Interface, network: Network | undefined) => NetworkBinding;
