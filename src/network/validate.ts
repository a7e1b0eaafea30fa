/**
 * What a binding refuses before it touches the namespace. Admission catches
 * most of this for VMIs that went through the API; the launcher checks again
 * because a spec can reach it by other paths. Pure: each function returns
 * short phrases with values in quotes, [] when all is well.
 */
import type { BindingContext, BindingKind } from "./binding.ts";
import { vmNetwork4, vmNetwork6 } from "./cidr.ts";
import type { Interface, Network } from "./spec.ts";

const MAC = /^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/;

/** Lower-case colon form of a MAC in colon or dash form, or null. */
export function normalizeMac(text: string): string | null {
  return MAC.test(text) ? text.toLowerCase().replace(/-/g, ":") : null;
}

/** A Linux interface name: 1-15 bytes, no "/", ":" or white space, not "." or "..". */
export function interfaceNameProblem(role: string, name: string): string | null {
  if (name.length === 0 || name.length > 15) return `${role} "${name}" must be 1 to 15 characters long`;
  if (/[/:\s]/.test(name) || name === "." || name === "..") return `${role} "${name}" must not contain "/", ":" or white space`;
  return null;
}

export function bridgeName(podInterface: string): string {
  return `k6t-${podInterface}`;
}

/** Problems with one interface and its network for binding `kind`. */
export function nicProblems(nic: Interface, network: Network | undefined, kind: BindingKind): string[] {
  const out: string[] = [];
  if (network === undefined) out.push(`interface "${nic.name}" has no network of the same name`);
  else if (network.pod === undefined) out.push(`network "${network.name}" has no source; only the pod network (pod: {}) is supported`);
  const set = (["masquerade", "bridge"] as const).filter((b) => nic[b] !== undefined);
  if (set.length !== 1 || set[0] !== kind) {
    out.push(`interface "${nic.name}" must set exactly the ${kind} binding; it sets ${set.length === 0 ? "none" : set.join(" and ")}`);
  }
  if (nic.macAddress !== undefined) {
    const mac = normalizeMac(nic.macAddress);
    if (mac === null) out.push(`macAddress "${nic.macAddress}" is not a MAC address (six hex octets such as 02:00:00:00:00:01)`);
    else if ((parseInt(mac.slice(0, 2), 16) & 1) === 1) out.push(`macAddress "${nic.macAddress}" is a multicast address; a NIC needs a unicast one`);
  }
  const ports = nic.ports ?? [];
  if (ports.length > 0 && kind !== "masquerade") out.push(`interface "${nic.name}" declares ports; ports may only be declared on a masquerade interface`);
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const protocol = p.protocol ?? "TCP";
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) out.push(`ports[${i}].port "${p.port}" is not in 1..65535`);
    if (protocol !== "TCP" && protocol !== "UDP") out.push(`ports[${i}].protocol "${String(protocol)}" is not "TCP" or "UDP"`);
    const key = `${protocol}/${p.port}`;
    if (seen.has(key)) out.push(`port ${key} is declared more than once`);
    seen.add(key);
  });
  if (kind === "masquerade" && network?.pod !== undefined) {
    const { vmNetworkCIDR, vmIPv6NetworkCIDR } = network.pod;
    if (vmNetworkCIDR !== undefined) {
      const v = vmNetwork4(vmNetworkCIDR);
      if (typeof v === "string") out.push(`vmNetworkCIDR ${v}`);
    }
    if (vmIPv6NetworkCIDR !== undefined) {
      const v = vmNetwork6(vmIPv6NetworkCIDR);
      if (typeof v === "string") out.push(`vmIPv6NetworkCIDR ${v}`);
    }
  }
  return out;
}

/** Problems with the binding context (names, owner, default MAC). */
export function contextProblems(ctx: BindingContext): string[] {
  const out: string[] = [];
  for (const p of [
    interfaceNameProblem("podInterface", ctx.podInterface),
    interfaceNameProblem("tap", ctx.tap),
    interfaceNameProblem("bridge", bridgeName(ctx.podInterface)),
  ]) {
    if (p !== null) out.push(p);
  }
  if (ctx.tap === ctx.podInterface || ctx.tap === bridgeName(ctx.podInterface)) out.push(`tap "${ctx.tap}" must not be the pod interface or the bridge`);
  if (ctx.tapOwner !== undefined && (!Number.isInteger(ctx.tapOwner) || ctx.tapOwner < 0)) out.push(`tapOwner "${ctx.tapOwner}" is not a uid`);
  if (ctx.defaultMac !== undefined && normalizeMac(ctx.defaultMac) === null) out.push(`defaultMac "${ctx.defaultMac}" is not a MAC address`);
  if (ctx.stateDir === "") out.push("stateDir must not be empty");
  return out;
}

/** Problems with the VMI's networking as a whole (before any binding runs). */
export function specProblems(interfaces: Interface[], networks: Network[]): string[] {
  const out: string[] = [];
  const names = new Set<string>();
  for (const n of networks) {
    if (names.has(n.name)) out.push(`network name "${n.name}" is used more than once`);
    names.add(n.name);
  }
  const nicNames = new Set<string>();
  const onPod: string[] = [];
  for (const nic of interfaces) {
    if (nicNames.has(nic.name)) out.push(`interface name "${nic.name}" is used more than once`);
    nicNames.add(nic.name);
    const network = networks.find((n) => n.name === nic.name);
    if (network === undefined) out.push(`interface "${nic.name}" has no network of the same name`);
    else if (network.pod !== undefined) onPod.push(nic.name);
  }
  if (onPod.length > 1) out.push(`interfaces ${onPod.map((n) => `"${n}"`).join(" and ")} are both on the pod network; at most one interface may use it`);
  return out;
}

/** The binding an interface asks for, or null when it sets none or several. */
export function bindingOf(nic: Interface): BindingKind | null {
  const set = (["masquerade", "bridge"] as const).filter((b) => nic[b] !== undefined);
  return set.length === 1 ? (set[0] ?? null) : null;
}
