/**
 * Address arithmetic for the VM networks: IPv4 through ipv4.ts, IPv6 as
 * 128-bit bigints. Pure.
 */
import { formatIPv4, isNetworkAddress, parseIPv4 } from "./ipv4.ts";

export interface Cidr {
  address: string;
  prefixLength: number;
}

/** "a.b.c.d/n" -> parts, or null. */
export function parseCidr4(text: string): Cidr | null {
  const [address = "", prefix, ...rest] = text.split("/");
  if (prefix === undefined || rest.length > 0 || !/^\d{1,2}$/.test(prefix)) return null;
  const prefixLength = Number(prefix);
  if (parseIPv4(address) === null || prefixLength > 32) return null;
  return { address, prefixLength };
}

/** The n-th address of an IPv4 network (n = 1: the first host). */
export function nthIPv4(network: string, n: number): string {
  return formatIPv4(((parseIPv4(network) ?? 0) + n) >>> 0);
}

/** Parses IPv6 text (with "::" and an optional embedded IPv4 tail) into a bigint, or null. */
export function parseIPv6(text: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length > 45) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (const [i, item] of items.entries()) {
      if (i === items.length - 1 && item.includes(".")) {
        const v4 = parseIPv4(item);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return null;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0] ?? "");
  const tail = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** RFC 5952 text: lower case, longest run of two or more zero groups as "::". */
export function formatIPv6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

export function parseCidr6(text: string): Cidr | null {
  const [address = "", prefix, ...rest] = text.split("/");
  if (prefix === undefined || rest.length > 0 || !/^\d{1,3}$/.test(prefix)) return null;
  const prefixLength = Number(prefix);
  const value = parseIPv6(address);
  if (value === null || prefixLength > 128) return null;
  return { address: formatIPv6(value), prefixLength };
}

const hostBits6 = (prefixLength: number): bigint => (1n << BigInt(128 - prefixLength)) - 1n;

/** The n-th address of an IPv6 network. */
export function nthIPv6(network: string, n: number): string {
  return formatIPv6((parseIPv6(network) ?? 0n) + BigInt(n));
}

/**
 * A VM network (KubeVirt's vmNetworkCIDR / vmIPv6NetworkCIDR): the gateway
 * (the pod side, on the bridge) is the first host, the guest the second.
 */
export interface VmNetwork {
  gateway: string;
  guest: string;
  prefixLength: number;
}

/** The VM network of an IPv4 CIDR, or a phrase saying what is wrong with it. */
export function vmNetwork4(cidr: string): VmNetwork | string {
  const c = parseCidr4(cidr);
  if (c === null) return `"${cidr}" is not an IPv4 CIDR such as "10.0.2.0/24"`;
  if (c.prefixLength > 30) return `"${cidr}" is too small: the prefix must be at most /30 (a gateway and a guest address)`;
  if (!isNetworkAddress(c.address, c.prefixLength)) return `"${cidr}" has host bits set`;
  return { gateway: nthIPv4(c.address, 1), guest: nthIPv4(c.address, 2), prefixLength: c.prefixLength };
}

export function vmNetwork6(cidr: string): VmNetwork | string {
  const c = parseCidr6(cidr);
  if (c === null) return `"${cidr}" is not an IPv6 CIDR such as "fd10:0:2::/120"`;
  if (c.prefixLength > 126) return `"${cidr}" is too small: the prefix must be at most /126`;
  if (((parseIPv6(c.address) ?? 0n) & hostBits6(c.prefixLength)) !== 0n) return `"${cidr}" has host bits set`;
  return { gateway: nthIPv6(c.address, 1), guest: nthIPv6(c.address, 2), prefixLength: c.prefixLength };
}
