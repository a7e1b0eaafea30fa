/**
 * What "the namespace as it was" means for the binding contract: addresses,
 * links, IPv4 and IPv6 routes, the nftables ruleset and the forwarding
 * sysctls, as the tools print them. `exec` runs a command inside the
 * namespace and returns its stdout (tests: `ip netns exec NS ...`).
 */
import { parseJson } from "./exec.ts";

export interface NamespaceSnapshot {
  addr: unknown;
  link: unknown;
  route4: unknown;
  route6: unknown;
  nft: unknown;
  sysctl: Record<string, string>;
}

export const snapshotSysctls = ["net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding"] as const;

export async function namespaceSnapshot(exec: (argv: string[]) => Promise<string>): Promise<NamespaceSnapshot> {
  const read = async (argv: string[]): Promise<unknown> => parseJson(argv, await exec(argv));
  const sysctl: Record<string, string> = {};
  for (const key of snapshotSysctls) sysctl[key] = (await exec(["cat", `/proc/sys/${key}`])).trim();
  return {
    addr: await read(["ip", "-j", "addr"]),
    link: await read(["ip", "-j", "link"]),
    route4: await read(["ip", "-j", "-4", "route", "show", "table", "all"]),
    route6: await read(["ip", "-j", "-6", "route", "show", "table", "all"]),
    nft: await read(["nft", "-j", "list", "ruleset"]),
    sysctl,
  };
}

/**
 * The snapshot without what follows a link's carrier (operstate, the
 * NO-CARRIER/LOWER_UP flags, routes' "linkdown"): the kernel updates those
 * asynchronously (link watch, up to a second) after a bridge gains a port,
 * and they change whenever QEMU opens or closes the tap; no binding sets them.
 */
export function withoutCarrier(s: NamespaceSnapshot): NamespaceSnapshot {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (typeof value !== "object" || value === null) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "operstate") continue;
      if (k === "flags" && Array.isArray(v)) out[k] = v.filter((f) => f !== "NO-CARRIER" && f !== "LOWER_UP" && f !== "linkdown");
      else out[k] = strip(v);
    }
    return out;
  };
  return { ...s, addr: strip(s.addr), link: strip(s.link), route4: strip(s.route4), route6: strip(s.route6) };
}
