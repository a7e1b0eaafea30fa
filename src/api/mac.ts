/**
 * MAC addresses: the one place that says which text is a MAC, how bunvirt
 * writes one, and which MACs an interface may ask for. Admission, the
 * network bindings, the DHCP server and the domain XML all use it. Pure.
 *
 * It lives in src/api because a MAC is first a value of the API
 * (Interface.macAddress): admission decides what may be asked for, and the
 * parts that act on an admitted spec (src/network, src/domain) already
 * depend on src/api, never the other way round.
 *
 * Accepted: what KubeVirt accepts, i.e. the six-octet forms Go's net.ParseMAC
 * reads (00:00:5e:00:53:01, 00-00-5e-00-53-01, 0000.5e00.5301; any case).
 * Written: one way, lower-case colon form (00:00:5e:00:53:01).
 */
import { createHash } from "node:crypto";

const COLON = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const DASH = /^[0-9a-f]{2}(-[0-9a-f]{2}){5}$/i;
const DOT = /^[0-9a-f]{4}(\.[0-9a-f]{4}){2}$/i;

/** KubeVirt gives this MAC to the in-pod bridge of a masquerade interface; the guest may not have it. */
export const masqueradeBridgeMac = "02:00:00:00:00:00";

/** The six octets of a MAC in one of the accepted forms, or null. */
export function parseMac(text: string): Uint8Array | null {
  let hex: string;
  if (COLON.test(text) || DASH.test(text)) hex = text.replace(/[:-]/g, "");
  else if (DOT.test(text)) hex = text.replace(/\./g, "");
  else return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The written form: lower-case, colon-separated. */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** The written form of `text`, or null when it is not a MAC. */
export function normalizeMac(text: string): string | null {
  const bytes = parseMac(text);
  return bytes === null ? null : formatMac(bytes);
}

/** The written form of a MAC that must already be one (a spec that was admitted, a binding's result). */
export function canonicalMac(text: string): string {
  const mac = normalizeMac(text);
  if (mac === null) throw new Error(`Cannot write MAC address "${text}": it is not a MAC address`);
  return mac;
}

/** The group bit: the first octet is odd. */
export function isMulticastMac(bytes: Uint8Array): boolean {
  return ((bytes[0] ?? 0) & 1) === 1;
}

/**
 * A locally administered unicast MAC from six bytes of entropy (random or a
 * hash): the first octet's low bits are set to "local, unicast"; the one MAC
 * reserved for the masquerade bridge is never the answer.
 */
export function localUnicastMac(entropy: Uint8Array): string {
  const b = Uint8Array.from(entropy.subarray(0, 6));
  b[0] = ((b[0] ?? 0) & 0xfc) | 0x02;
  const mac = formatMac(b);
  return mac === masqueradeBridgeMac ? "02:00:00:00:00:01" : mac;
}

/**
 * The MAC of an interface whose spec sets none: stable for the VMI
 * ("namespace/name") and the interface, locally administered, unicast.
 * `bunvirt domain-xml` shows the MAC the launcher will give.
 */
export function derivedMac(vmiKey: string, iface: string): string {
  const h = createHash("sha256").update(`${vmiKey}/${iface}`).digest();
  return localUnicastMac(Uint8Array.of(0x02, h[0] ?? 0, h[1] ?? 0, h[2] ?? 0, h[3] ?? 0, h[4] ?? 0));
}

/**
 * Why `text` cannot be the MAC of an interface with `binding`, or null. The
 * phrase names the value in quotes and the rule; the caller adds the field.
 */
export function macAddressProblem(text: string, binding: "masquerade" | "bridge" | null): string | null {
  const bytes = parseMac(text);
  if (bytes === null) {
    return `"${text}" is not a MAC address: six octets written as 02:00:5e:00:53:01, 02-00-5e-00-53-01 or 0200.5e00.5301`;
  }
  if (isMulticastMac(bytes)) {
    return `"${text}" is a multicast MAC address (its first octet is odd); libvirt cannot use a multicast MAC for a NIC, choose a unicast one such as 02:00:5e:00:53:01`;
  }
  if (binding === "masquerade" && formatMac(bytes) === masqueradeBridgeMac) {
    return `"${text}" is reserved for the in-pod bridge of a masquerade interface; choose another MAC address`;
  }
  return null;
}
