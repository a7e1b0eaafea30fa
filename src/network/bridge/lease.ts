/**
 * The DHCP lease of the bridge binding: the pod's own address, prefix and
 * routes, handed to the guest. Pure.
 *
 * - router: the gateway of the pod's default route (lowest metric);
 * - classless routes (option 121): the bridge's link-local server address
 *   169.254.75.10/32 on-link (so a renewing guest reaches the server), an
 *   on-link /32 for a gateway outside the leased subnet (as CNIs such as
 *   Calico use), the pod's other non-connected routes; the DHCP server adds
 *   the default route via the router.
 */
import type { ClasslessRoute, LeaseConfig } from "../dhcp/index.ts";
import { INFINITE_LEASE } from "../dhcp/index.ts";
import { parseCidr4 } from "../cidr.ts";
import { networkAddress, parseIPv4, prefixContains } from "../ipv4.ts";
import type { Address, Route } from "../iproute.ts";

/** The address the bridge carries so the DHCP server can talk (KubeVirt's choice). */
export const BRIDGE_SERVER_ADDRESS = "169.254.75.10";

export interface BridgeLeaseInput {
  mac: string;
  address: Address;
  routes: Route[];
  mtu: number;
  dns: string[];
  searchDomains: string[];
  hostname?: string;
}

/** "default" -> 0.0.0.0/0, "10.1.0.0/16" -> itself, "10.98.0.1" -> /32; null for anything else. */
function destination(dst: string): { destination: string; prefixLength: number } | null {
  if (dst === "default") return { destination: "0.0.0.0", prefixLength: 0 };
  const cidr = parseCidr4(dst.includes("/") ? dst : `${dst}/32`);
  if (cidr === null) return null;
  return { destination: networkAddress(cidr.address, cidr.prefixLength) ?? cidr.address, prefixLength: cidr.prefixLength };
}

const unicast = (r: Route): boolean => r.type === undefined || r.type === "unicast";

/** The default gateway: the default route with a gateway and the lowest metric. */
export function defaultGateway(routes: Route[]): string | undefined {
  const defaults = routes
    .filter((r) => r.dst === "default" && r.gateway !== undefined && unicast(r) && (r.table === undefined || r.table === "main"))
    .sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0));
  return defaults[0]?.gateway;
}

export function bridgeLease(input: BridgeLeaseInput): LeaseConfig {
  const { address } = input;
  const router = defaultGateway(input.routes);
  const onLink: ClasslessRoute[] = [{ destination: BRIDGE_SERVER_ADDRESS, prefixLength: 32, gateway: "0.0.0.0" }];
  const viaGateway: ClasslessRoute[] = [];
  const key = (r: ClasslessRoute): string => `${r.destination}/${r.prefixLength}`;
  const seen = new Set<string>(onLink.map(key));
  const add = (list: ClasslessRoute[], r: ClasslessRoute): void => {
    if (seen.has(key(r))) return;
    seen.add(key(r));
    list.push(r);
  };
  for (const r of input.routes) {
    if (!unicast(r) || r.protocol === "kernel" || r.dst === "default" || (r.table !== undefined && r.table !== "main")) continue;
    const d = destination(r.dst);
    if (d === null) continue;
    if (r.gateway === undefined) add(onLink, { ...d, gateway: "0.0.0.0" });
    else if (parseIPv4(r.gateway) !== null) add(viaGateway, { ...d, gateway: r.gateway });
  }
  const peer = address.address !== undefined && address.address !== address.local ? address.address : undefined;
  for (const gw of [router, ...viaGateway.map((r) => r.gateway)]) {
    if (gw === undefined || gw === peer || prefixContains(address.local, address.prefixlen, gw)) continue;
    add(onLink, { destination: gw, prefixLength: 32, gateway: "0.0.0.0" });
  }
  if (peer !== undefined) add(onLink, { destination: peer, prefixLength: 32, gateway: "0.0.0.0" });
  return {
    clientMac: input.mac,
    address: address.local,
    prefixLength: address.prefixlen,
    ...(router !== undefined ? { router } : {}),
    dns: input.dns,
    searchDomains: input.searchDomains,
    mtu: input.mtu,
    leaseSeconds: INFINITE_LEASE,
    serverId: BRIDGE_SERVER_ADDRESS,
    classlessRoutes: [...onLink, ...viaGateway],
    ...(input.hostname !== undefined ? { hostname: input.hostname } : {}),
  };
}
