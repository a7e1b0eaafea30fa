/**
 * What the per-VM DHCP server hands out: one address to one MAC, plus the
 * network configuration. Pure validation, so a bad config fails at start-up
 * instead of at the VM's first request.
 */
import type { ClasslessRoute } from "./classless-routes.ts";
import { domainNameProblem } from "./domain-search.ts";
import { isIPv4, isNetworkAddress } from "../ipv4.ts";
import { latin1Encode } from "./latin1.ts";
import { parseMac } from "../../api/mac.ts";

export interface LeaseConfig {
  /** The VM interface's MAC; packets from any other chaddr are ignored. */
  clientMac: string;
  /** The address leased to the VM. */
  address: string;
  prefixLength: number;
  /** Default gateway (option 3); omitted when undefined. */
  router?: string;
  /** DNS servers (option 6). */
  dns: string[];
  /** DNS search list (option 119). */
  searchDomains: string[];
  /** Domain name (option 15); defaults to the first search domain. */
  domainName?: string;
  /** Host name (option 12). */
  hostname?: string;
  /** Interface MTU (option 26). */
  mtu: number;
  /** Lease time (option 51); 0xffffffff means infinite. */
  leaseSeconds: number;
  /** The server identifier (option 54): an address of the server's interface. */
  serverId: string;
  /** Classless static routes (option 121). */
  classlessRoutes?: ClasslessRoute[];
}

export const INFINITE_LEASE = 0xffffffff;

/** Every problem with `config`, each a short phrase with values in quotes; [] when valid. */
export function leaseConfigProblems(config: LeaseConfig): string[] {
  const problems: string[] = [];
  const ip = (name: string, value: string | undefined): void => {
    if (value !== undefined && !isIPv4(value)) problems.push(`${name} "${value}" is not an IPv4 address`);
  };
  if (parseMac(config.clientMac) === null) problems.push(`clientMac "${config.clientMac}" is not a MAC address`);
  ip("address", config.address);
  ip("serverId", config.serverId);
  ip("router", config.router);
  config.dns.forEach((d, i) => ip(`dns[${i}]`, d));
  if (!Number.isInteger(config.prefixLength) || config.prefixLength < 0 || config.prefixLength > 32) {
    problems.push(`prefixLength "${config.prefixLength}" is not in 0..32`);
  }
  if (!Number.isInteger(config.mtu) || config.mtu < 68 || config.mtu > 65535) {
    problems.push(`mtu "${config.mtu}" is not in 68..65535`);
  }
  if (!Number.isInteger(config.leaseSeconds) || config.leaseSeconds < 1 || config.leaseSeconds > INFINITE_LEASE) {
    problems.push(`leaseSeconds "${config.leaseSeconds}" is not in 1..${INFINITE_LEASE}`);
  }
  for (const name of config.searchDomains) {
    const p = domainNameProblem(name);
    if (p !== null) problems.push(`searchDomains: ${p}`);
  }
  for (const [field, value] of [
    ["hostname", config.hostname],
    ["domainName", config.domainName],
  ] as const) {
    if (value === undefined) continue;
    const bytes = latin1Encode(value);
    if (bytes === null || bytes.length === 0 || bytes.includes(0)) {
      problems.push(`${field} "${value}" is not a non-empty one-byte-per-character string`);
    }
  }
  for (const r of config.classlessRoutes ?? []) {
    const text = `${r.destination}/${r.prefixLength} via ${r.gateway}`;
    if (!isIPv4(r.destination) || !isIPv4(r.gateway) || !Number.isInteger(r.prefixLength) || r.prefixLength < 0 || r.prefixLength > 32) {
      problems.push(`classless route "${text}" is not an IPv4 prefix and gateway`);
    } else if (!isNetworkAddress(r.destination, r.prefixLength)) {
      problems.push(`classless route "${text}" has host bits set in its destination`);
    }
  }
  return problems;
}
