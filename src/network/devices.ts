/**
 * The pieces both bindings build: a bridge, a tap on it, a MAC for the guest,
 * the pod's resolv.conf. Each `ensure` step converges (creates what is
 * missing, fixes what differs, leaves what is right alone) so a second setup
 * changes nothing.
 */
import { readFile } from "node:fs/promises";
import { localUnicastMac } from "../api/mac.ts";
import type { BindingContext } from "./binding.ts";
import { type ResolvConf, parseResolvConf } from "./dhcp/index.ts";
import { addBridge, addTap, deleteLink, deleteTap, getLink, type Link, setMaster, setMtu, setUp } from "./iproute.ts";

/** How an existing device used as the tap looked before setup. */
export interface DeviceOriginal {
  master: string | null;
  mtu: number;
  up: boolean;
}

export const isUp = (link: Link): boolean => link.flags.includes("UP");

/** A random locally administered unicast MAC. */
export function randomMac(): string {
  return localUnicastMac(crypto.getRandomValues(new Uint8Array(6)));
}

export async function readResolvConf(path: string): Promise<ResolvConf> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { dns: [], searchDomains: [] };
    throw new Error(`Cannot read resolv.conf "${path}": ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return parseResolvConf(text);
}

export async function ensureBridge(name: string, mtu: number): Promise<void> {
  let link = await getLink(name);
  if (link === null) {
    await addBridge(name, mtu);
    link = await getLink(name);
    if (link === null) throw new Error(`Cannot create bridge "${name}": it is not there after "ip link add"`);
  }
  if (link.kind !== "bridge") throw new Error(`Cannot use "${name}" as the VM's bridge: it is a "${link.kind ?? "unknown"}" device`);
  if (link.mtu !== mtu) await setMtu(name, mtu);
  if (!isUp(link)) await setUp(name, true);
}

/** Problems with the tap before setup: an existing device must be there; a tap we create must not clash. */
export function tapProblem(ctx: BindingContext, link: Link | null, reusing: boolean): string | null {
  if (ctx.existingTap === true) return link === null ? `tap "${ctx.tap}" should exist (existingTap) but does not` : null;
  if (link === null) return null;
  if (!reusing) return `tap "${ctx.tap}" already exists and was not made by an earlier setup`;
  if (link.kind !== "tun" || link.tun?.type !== "tap") return `"${ctx.tap}" exists and is not a tap device`;
  if ((link.tun.multi_queue ?? false) !== (ctx.multiQueue ?? false)) {
    return `tap "${ctx.tap}" exists with multi_queue ${String(link.tun.multi_queue ?? false)}, not ${String(ctx.multiQueue ?? false)}`;
  }
  return null;
}

/** Creates the tap unless it exists (or is given), then sets its MTU, attaches it to `bridge` and brings it up. */
export async function ensureTap(ctx: BindingContext, bridge: string, mtu: number): Promise<void> {
  let link = await getLink(ctx.tap);
  if (link === null) {
    if (ctx.existingTap === true) throw new Error(`Cannot use "${ctx.tap}" as the tap: it does not exist`);
    await addTap(ctx.tap, { owner: ctx.tapOwner ?? 0, multiQueue: ctx.multiQueue ?? false });
    link = await getLink(ctx.tap);
    if (link === null) throw new Error(`Cannot create tap "${ctx.tap}": it is not there after "ip tuntap add"`);
  }
  if (link.mtu !== mtu) await setMtu(ctx.tap, mtu);
  if (link.master !== bridge) await setMaster(ctx.tap, bridge);
  if (!isUp(link)) await setUp(ctx.tap, true);
}

/** Deletes the tap we made, or puts a given device back as it was. */
export async function releaseTap(tap: string, existing: DeviceOriginal | null, multiQueue: boolean): Promise<void> {
  if (existing === null) {
    await deleteTap(tap, multiQueue);
    return;
  }
  const link = await getLink(tap);
  if (link === null) return;
  if ((link.master ?? null) !== existing.master) await setMaster(tap, existing.master);
  if (link.mtu !== existing.mtu) await setMtu(tap, existing.mtu);
  if (isUp(link) !== existing.up) await setUp(tap, existing.up);
}

export async function deleteBridge(name: string): Promise<void> {
  const link = await getLink(name);
  if (link === null) return;
  if (link.kind !== "bridge") throw new Error(`Cannot delete bridge "${name}": it is a "${link.kind ?? "unknown"}" device`);
  await deleteLink(name);
}

export async function recordDevice(name: string): Promise<DeviceOriginal | null> {
  const link = await getLink(name);
  return link === null ? null : { master: link.master ?? null, mtu: link.mtu, up: isUp(link) };
}
