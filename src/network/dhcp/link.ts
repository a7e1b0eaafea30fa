/**
 * The host side of reply delivery: a permanent neighbour entry for the VM's
 * address (so the kernel never ARPs for a client that has no address yet)
 * and, when no connected route covers the address, a /32 route on the
 * bridge. `ipCommandLink` does it with iproute2; tests inject a fake.
 */
import { parseIPv4, prefixContains } from "../ipv4.ts";
import { spawnOwn } from "../../process/own-children.ts";

export interface DhcpLink {
  /** Whether a gateway-less unicast route on `iface` already covers `address`. */
  hasConnectedRoute(iface: string, address: string): Promise<boolean>;
  /** `ip route replace ADDRESS/32 dev IFACE` */
  addHostRoute(iface: string, address: string): Promise<void>;
  removeHostRoute(iface: string, address: string): Promise<void>;
  /** `ip neigh replace ADDRESS lladdr MAC dev IFACE nud permanent` */
  setPermanentNeighbour(iface: string, address: string, mac: string): Promise<void>;
  removeNeighbour(iface: string, address: string): Promise<void>;
}

/**
 * Whether `routes` (the JSON of `ip -4 -j route show dev IFACE`) holds a
 * connected route for `address`: no gateway, unicast, not the default. Pure.
 */
export function routesCover(routes: unknown, address: string): boolean {
  if (!Array.isArray(routes) || parseIPv4(address) === null) return false;
  return routes.some((r: unknown) => {
    if (typeof r !== "object" || r === null) return false;
    const route = r as Record<string, unknown>;
    if (route.gateway !== undefined || (route.type !== undefined && route.type !== "unicast")) return false;
    if (typeof route.dst !== "string" || route.dst === "default") return false;
    const [network = "", prefix = "32"] = route.dst.split("/");
    const length = Number(prefix);
    return Number.isInteger(length) && length >= 0 && length <= 32 && prefixContains(network, length, address);
  });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[]): Promise<Run> {
  const proc = spawnOwn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

async function must(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`Cannot run "${argv.join(" ")}": exit ${r.code}: "${r.stderr.trim()}"`);
  return r.stdout;
}

/** Removal that is already done (entry, route or interface gone) is not an error. */
async function remove(argv: string[]): Promise<void> {
  const r = await run(argv);
  if (r.code === 0 || /No such (file|process|device)|Cannot find device/.test(r.stderr)) return;
  throw new Error(`Cannot run "${argv.join(" ")}": exit ${r.code}: "${r.stderr.trim()}"`);
}

export function ipCommandLink(ip = "ip"): DhcpLink {
  return {
    async hasConnectedRoute(iface, address) {
      const out = await must([ip, "-4", "-j", "route", "show", "dev", iface]);
      let routes: unknown;
      try {
        routes = JSON.parse(out.trim() === "" ? "[]" : out);
      } catch (cause) {
        throw new Error(`Cannot read the routes of "${iface}": "ip -j" printed no JSON`, { cause });
      }
      return routesCover(routes, address);
    },
    async addHostRoute(iface, address) {
      await must([ip, "route", "replace", `${address}/32`, "dev", iface]);
    },
    removeHostRoute: (iface, address) => remove([ip, "route", "del", `${address}/32`, "dev", iface]),
    async setPermanentNeighbour(iface, address, mac) {
      await must([ip, "neigh", "replace", address, "lladdr", mac, "dev", iface, "nud", "permanent"]);
    },
    removeNeighbour: (iface, address) => remove([ip, "neigh", "del", address, "dev", iface]),
  };
}
