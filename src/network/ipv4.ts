/**
 * IPv4 address helpers shared by the VM networks (cidr.ts), the bridge lease
 * and the DHCP codec, responder and config validation. Pure: strings in
 * dotted-quad form, numbers as unsigned 32 bit.
 */

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Parses "a.b.c.d" into an unsigned 32 bit number, or null when it is not one. */
export function parseIPv4(text: string): number | null {
  const m = DOTTED_QUAD.exec(text);
  if (m === null) return null;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i] ?? "";
    // No leading zeros ("010" is octal to some parsers): refuse the ambiguity.
    if (part.length > 1 && part.startsWith("0")) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

export function isIPv4(text: string): boolean {
  return parseIPv4(text) !== null;
}

export function formatIPv4(value: number): string {
  const v = value >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** Reads four bytes at `offset` as a dotted quad (caller checks bounds). */
export function readIPv4(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

/** The netmask for a prefix length 0..32 as an unsigned number. */
export function prefixMask(prefixLength: number): number {
  return prefixLength <= 0 ? 0 : (0xffffffff << (32 - Math.min(prefixLength, 32))) >>> 0;
}

export function prefixToNetmask(prefixLength: number): string {
  return formatIPv4(prefixMask(prefixLength));
}

/** Directed broadcast address of `address`/`prefixLength`, or null for /31 and /32. */
export function broadcastAddress(address: string, prefixLength: number): string | null {
  const a = parseIPv4(address);
  if (a === null || prefixLength > 30) return null;
  return formatIPv4((a | ~prefixMask(prefixLength)) >>> 0);
}

/** Whether `address` lies inside `network`/`prefixLength`. */
export function prefixContains(network: string, prefixLength: number, address: string): boolean {
  const n = parseIPv4(network);
  const a = parseIPv4(address);
  if (n === null || a === null) return false;
  const mask = prefixMask(prefixLength);
  return ((n & mask) >>> 0) === ((a & mask) >>> 0);
}

/** The network address of `address`/`prefixLength` (host bits cleared), or null when `address` is not IPv4. */
export function networkAddress(address: string, prefixLength: number): string | null {
  const a = parseIPv4(address);
  return a === null ? null : formatIPv4((a & prefixMask(prefixLength)) >>> 0);
}

/** Whether the bits of `address` past `prefixLength` are all zero. */
export function isNetworkAddress(address: string, prefixLength: number): boolean {
  const a = parseIPv4(address);
  if (a === null) return false;
  return ((a & ~prefixMask(prefixLength)) >>> 0) === 0;
}
