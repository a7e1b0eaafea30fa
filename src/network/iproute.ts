/**
 * Netlink-ish helpers: what the bindings need from the current network
 * namespace, done with iproute2 (`ip -j` to read, `ip` to change). Reading
 * returns plain records; the argv builders for addresses and routes are pure
 * so a recorded address or route can be put back exactly.
 */
import { json, must, remove, run } from "./exec.ts";

export interface Link {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  address: string;
  master?: string;
  operstate?: string;
  /** "bridge", "tun", "veth", ... (from `ip -d`). */
  kind?: string;
  /** For tun devices: "tap" or "tun", owner, multi_queue. */
  tun?: { type?: string; user?: string; multi_queue?: boolean };
}

export interface Address {
  family: "inet" | "inet6";
  local: string;
  prefixlen: number;
  /** Peer address of a point-to-point address. */
  address?: string;
  broadcast?: string;
  scope?: string;
  label?: string;
  noprefixroute?: boolean;
  tentative?: boolean;
  deprecated?: boolean;
  dadfailed?: boolean;
  nodad?: boolean;
  valid_life_time?: number;
  preferred_life_time?: number;
  metric?: number;
}

export interface Route {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  prefsrc?: string;
  type?: string;
  table?: string;
  flags?: string[];
  pref?: string;
  metrics?: Record<string, unknown>[];
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function toLink(raw: unknown): Link {
  const r = asRecord(raw);
  const info = asRecord(r.linkinfo);
  const data = asRecord(info.info_data);
  const link: Link = {
    ifindex: Number(r.ifindex),
    ifname: String(r.ifname),
    flags: asArray(r.flags).map(String),
    mtu: Number(r.mtu),
    address: String(r.address ?? ""),
  };
  if (typeof r.master === "string") link.master = r.master;
  if (typeof r.operstate === "string") link.operstate = r.operstate;
  if (typeof info.info_kind === "string") link.kind = info.info_kind;
  if (info.info_kind === "tun") {
    link.tun = {};
    if (typeof data.type === "string") link.tun.type = data.type;
    if (typeof data.user === "string") link.tun.user = data.user;
    if (typeof data.multi_queue === "boolean") link.tun.multi_queue = data.multi_queue;
  }
  return link;
}

/** The interface named `name` in the current namespace, or null when there is none. */
export async function getLink(name: string): Promise<Link | null> {
  const argv = ["ip", "-j", "-d", "link", "show", "dev", name];
  const r = await run(argv);
  if (r.code !== 0) {
    if (/does not exist|Cannot find device/.test(r.stderr)) return null;
    throw new Error(`Cannot run "${argv.join(" ")}": exit ${r.code}: "${r.stderr.trim()}"`);
  }
  const first = asArray(JSON.parse(r.stdout.trim() === "" ? "[]" : r.stdout) as unknown)[0];
  return first === undefined ? null : toLink(first);
}

export async function mustGetLink(name: string, role: string): Promise<Link> {
  const link = await getLink(name);
  if (link === null) throw new Error(`Cannot use ${role} "${name}": no such interface in this network namespace`);
  return link;
}

/** Names of the interfaces whose master is `bridge`. */
export async function portsOf(bridge: string): Promise<string[]> {
  const all = asArray(await json(["ip", "-j", "link", "show", "master", bridge]));
  return all.map((l) => String(asRecord(l).ifname));
}

export async function getAddresses(dev: string, family?: 4 | 6): Promise<Address[]> {
  const argv = ["ip", "-j", ...(family === undefined ? [] : [`-${family}`]), "addr", "show", "dev", dev];
  const first = asRecord(asArray(await json(argv))[0]);
  return asArray(first.addr_info).map((a) => asRecord(a) as unknown as Address);
}

/** Routes through `dev` ("dev" filled in) in the main table, or in every table (`table` set on those not in main). */
export async function getRoutes(dev: string, family: 4 | 6, table: "main" | "all" = "main"): Promise<Route[]> {
  const routes = asArray(await json(["ip", "-j", `-${family}`, "route", "show", "table", table, "dev", dev]));
  return routes.map((r) => ({ ...(asRecord(r) as unknown as Route), dev }));
}

/** Global (not link-local, not host) addresses of `dev`. */
export function globalAddresses(addresses: Address[], family: "inet" | "inet6"): Address[] {
  return addresses.filter((a) => a.family === family && (a.scope ?? "global") === "global" && a.dadfailed !== true);
}

// ---- argv builders (pure) --------------------------------------------------

/** `ip addr add` arguments that recreate `a` on `dev` as it was. */
export function addressArgs(a: Address, dev: string): string[] {
  const argv = ["ip", a.family === "inet6" ? "-6" : "-4", "addr", "add", `${a.local}/${a.prefixlen}`];
  if (a.address !== undefined && a.address !== a.local) argv.splice(4, 1, a.local, "peer", `${a.address}/${a.prefixlen}`);
  if (a.broadcast !== undefined) argv.push("broadcast", a.broadcast);
  if (a.scope !== undefined && a.scope !== "global") argv.push("scope", a.scope);
  if (a.family === "inet" && a.label !== undefined && a.label !== dev) argv.push("label", a.label);
  if (a.noprefixroute === true) argv.push("noprefixroute");
  if (a.family === "inet6" && a.nodad === true) argv.push("nodad");
  if (a.metric !== undefined) argv.push("metric", String(a.metric));
  const forever = (t: number | undefined): boolean => t === undefined || t === 0xffffffff;
  if (!forever(a.valid_life_time) || !forever(a.preferred_life_time)) {
    argv.push("valid_lft", String(a.valid_life_time ?? "forever"), "preferred_lft", String(a.preferred_life_time ?? "forever"));
  }
  argv.push("dev", dev);
  return argv;
}

/** `ip route add` arguments that recreate `r` as `ip -j route` showed it. */
export function routeArgs(r: Route, family: 4 | 6): string[] {
  const argv = ["ip", `-${family}`, "route", "add"];
  if (r.type !== undefined && r.type !== "unicast") argv.push(r.type);
  argv.push(r.dst);
  if (r.gateway !== undefined) argv.push("via", r.gateway);
  if (r.dev !== undefined) argv.push("dev", r.dev);
  argv.push("proto", r.protocol ?? "boot");
  if (r.scope !== undefined) argv.push("scope", r.scope);
  if (r.metric !== undefined) argv.push("metric", String(r.metric));
  if (r.prefsrc !== undefined) argv.push("src", r.prefsrc);
  if (r.table !== undefined && r.table !== "main") argv.push("table", r.table);
  if (r.pref !== undefined && family === 6) argv.push("pref", r.pref);
  for (const m of r.metrics ?? []) {
    for (const [key, value] of Object.entries(m)) {
      if (typeof value === "number" || typeof value === "string") argv.push(key, String(value));
    }
  }
  if ((r.flags ?? []).includes("onlink")) argv.push("onlink");
  return argv;
}

/** Routes the kernel makes by itself when an address is added (connected, proto kernel). */
export function isKernelRoute(r: Route): boolean {
  return r.protocol === "kernel";
}

/** Order for re-adding: routes without a gateway first, so every gateway is reachable when needed. */
export function restoreOrder(routes: Route[]): Route[] {
  return [...routes.filter((r) => r.gateway === undefined), ...routes.filter((r) => r.gateway !== undefined)];
}

// ---- changes ---------------------------------------------------------------

export async function addBridge(name: string, mtu: number): Promise<void> {
  await must(["ip", "link", "add", name, "mtu", String(mtu), "type", "bridge"]);
}

export interface TapOptions {
  /** Owner uid (default 0: root). */
  owner: number;
  multiQueue: boolean;
}

export async function addTap(name: string, opts: TapOptions): Promise<void> {
  const argv = ["ip", "tuntap", "add", "dev", name, "mode", "tap", "user", String(opts.owner)];
  if (opts.multiQueue) argv.push("multi_queue");
  await must(argv);
}

export async function deleteLink(name: string): Promise<void> {
  await remove(["ip", "link", "del", "dev", name]);
}

export async function deleteTap(name: string, multiQueue: boolean): Promise<void> {
  await remove(["ip", "tuntap", "del", "dev", name, "mode", "tap", ...(multiQueue ? ["multi_queue"] : [])]);
  // `ip tuntap del` of a missing device exits 0 silently; a tap still held by QEMU goes with `ip link del`.
  if ((await getLink(name)) !== null) await deleteLink(name);
}

export async function setMaster(dev: string, master: string | null): Promise<void> {
  await must(["ip", "link", "set", "dev", dev, ...(master === null ? ["nomaster"] : ["master", master])]);
}

export async function setMtu(dev: string, mtu: number): Promise<void> {
  await must(["ip", "link", "set", "dev", dev, "mtu", String(mtu)]);
}

export async function setMac(dev: string, mac: string): Promise<void> {
  await must(["ip", "link", "set", "dev", dev, "address", mac]);
}

export async function setUp(dev: string, up: boolean): Promise<void> {
  await must(["ip", "link", "set", "dev", dev, up ? "up" : "down"]);
}

export async function addAddress(dev: string, cidr: string, extra: string[] = []): Promise<void> {
  await must(["ip", "addr", "replace", cidr, "dev", dev, ...extra]);
}

export async function deleteAddress(dev: string, cidr: string): Promise<void> {
  await remove(["ip", "addr", "del", cidr, "dev", dev]);
}

/** Re-adds a recorded address; an identical one already there is fine. */
export async function restoreAddress(a: Address, dev: string): Promise<void> {
  const argv = addressArgs(a, dev);
  const r = await run(argv);
  if (r.code === 0 || /File exists/.test(r.stderr)) return;
  throw new Error(`Cannot run "${argv.join(" ")}": exit ${r.code}: "${r.stderr.trim()}"`);
}

/** Re-adds a recorded route; one already there is fine. */
export async function restoreRoute(r: Route, family: 4 | 6): Promise<void> {
  const argv = routeArgs(r, family);
  const res = await run(argv);
  if (res.code === 0 || /File exists/.test(res.stderr)) return;
  throw new Error(`Cannot run "${argv.join(" ")}": exit ${res.code}: "${res.stderr.trim()}"`);
}
