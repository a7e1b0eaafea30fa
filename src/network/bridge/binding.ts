/**
 * Bridge binding: the VM takes over the pod's IPv4 address and MAC.
 *
 *   before:  POD_IF 10.244.1.7/24 mac M, default via 10.244.1.1
 *   after:   k6t-POD_IF 169.254.75.10/32  <- POD_IF (no IPv4, new random MAC)
 *                                         <- tap <- VM 10.244.1.7/24 mac M
 *
 * The pod interface's IPv4 addresses are removed (its routes go with them),
 * it gets a random MAC and becomes a port of the bridge; the guest gets the
 * original MAC (unless the interface sets macAddress) and, by DHCP, the
 * original address, prefix, default gateway and routes, DNS from resolv.conf,
 * the MTU and the host name. Peers keep reaching the same MAC and address.
 * The bridge's link-local 169.254.75.10/32 is only for the DHCP server.
 *
 * The original addresses, routes and MAC are kept in the state file so a
 * restarted launcher can set up again and teardown can put them back.
 * IPv4 only: IPv6 addresses stay on the pod interface, unused by the VM.
 */
import type { BindingContext, BindingResult, NetworkBinding } from "../binding.ts";
import { applyChange, checkLease, recordResult, stateToTear, teardownWith } from "../binding-steps.ts";
import type { LeaseConfig } from "../dhcp/index.ts";
import {
  type DeviceOriginal,
  deleteBridge,
  ensureBridge,
  ensureTap,
  isUp,
  randomMac,
  readResolvConf,
  recordDevice,
  releaseTap,
  tapProblem,
} from "../devices.ts";
import { runAll } from "../exec.ts";
import {
  type Address,
  type Route,
  addAddress,
  deleteAddress,
  getAddresses,
  getLink,
  getRoutes,
  globalAddresses,
  isKernelRoute,
  restoreAddress,
  restoreOrder,
  restoreRoute,
  setMac,
  setMaster,
  setUp,
} from "../iproute.ts";
import type { Interface, Network } from "../spec.ts";
import { setupFailure, startSetup, type BindingInput } from "../setup-start.ts";
import { deleteState } from "../state.ts";
import { normalizeMac } from "../../api/mac.ts";
import { bridgeName } from "../validate.ts";
import { BRIDGE_SERVER_ADDRESS, bridgeLease } from "./lease.ts";

/** What the state file holds for a bridge binding. */
export interface BridgeState {
  version: 1;
  kind: "bridge";
  input: BindingInput;
  /** The pod interface before setup. */
  pod: {
    mac: string;
    mtu: number;
    /** Every IPv4 address, in the kernel's order. */
    addresses: Address[];
    /** Every IPv4 route through the pod interface, of every table but "local" (the kernel's). */
    routes: Route[];
    /** The MAC the pod interface gets while it is a bridge port. */
    portMac: string;
  };
  existingTap: DeviceOriginal | null;
  result?: BindingResult;
}

function fail(nic: Interface, problems: string[]): Error {
  return setupFailure("bridge", nic, problems);
}

/** Sets a MAC, taking the device down for it when it refuses a live change. */
async function changeMac(dev: string, mac: string): Promise<void> {
  try {
    await setMac(dev, mac);
  } catch {
    await setUp(dev, false);
    try {
      await setMac(dev, mac);
    } finally {
      await setUp(dev, true);
    }
  }
}

export function bridgeBinding(nic: Interface, network: Network | undefined): NetworkBinding {
  let remembered: BindingContext | null = null;

  async function setup(ctx: BindingContext): Promise<BindingResult> {
    remembered = ctx;
    // ---- checks: nothing is changed before all of them pass ----
    const { log, bridge, path, input, prior } = await startSetup<BridgeState>("bridge", nic, network, ctx);
    const podIf = ctx.podInterface;
    const podLink = await getLink(podIf);
    if (podLink === null) throw fail(nic, [`pod interface "${podIf}" does not exist in this network namespace`]);
    let pod: BridgeState["pod"];
    if (prior !== null) {
      pod = prior.pod;
    } else {
      if (podLink.master !== undefined) throw fail(nic, [`pod interface "${podIf}" is already a port of "${podLink.master}"`]);
      if ((await getLink(bridge)) !== null) throw fail(nic, [`bridge "${bridge}" already exists and was not made by an earlier setup`]);
      const addresses = (await getAddresses(podIf, 4)).filter((a) => a.family === "inet");
      if (globalAddresses(addresses, "inet").length === 0) throw fail(nic, [`pod interface "${podIf}" has no IPv4 address to hand to the VM`]);
      // Every table: removing the addresses flushes policy-routing tables' routes through the interface too.
      const routes = (await getRoutes(podIf, 4, "all")).filter((r) => r.table !== "local");
      pod = { mac: podLink.address, mtu: podLink.mtu, addresses, routes, portMac: randomMac() };
    }
    const tapIssue = tapProblem(ctx, await getLink(ctx.tap), prior !== null);
    if (tapIssue !== null) throw fail(nic, [tapIssue]);
    const primary = globalAddresses(pod.addresses, "inet")[0];
    if (primary === undefined) throw fail(nic, [`pod interface "${podIf}" has no IPv4 address to hand to the VM`]);
    const mac = normalizeMac(nic.macAddress ?? pod.mac) ?? pod.mac;
    const resolv = await readResolvConf(ctx.resolvConf ?? "/etc/resolv.conf");
    const lease: LeaseConfig = bridgeLease({
      mac,
      address: primary,
      routes: pod.routes,
      mtu: pod.mtu,
      dns: resolv.dns,
      searchDomains: resolv.searchDomains,
      ...(ctx.hostname !== undefined ? { hostname: ctx.hostname } : {}),
    });
    checkLease("bridge", nic, lease);

    // ---- remember, then change ----
    const state: BridgeState = prior ?? {
      version: 1,
      kind: "bridge",
      input,
      pod,
      existingTap: ctx.existingTap === true ? await recordDevice(ctx.tap) : null,
    };
    await applyChange({ kind: "bridge", nic, path, prior, state, log, undo: () => tear(ctx), change: async () => {
      await ensureBridge(bridge, pod.mtu);
      for (const a of pod.addresses) await deleteAddress(podIf, `${a.local}/${a.prefixlen}`);
      const now = await getLink(podIf);
      if (now === null) throw new Error(`pod interface "${podIf}" disappeared`);
      if (now.address !== pod.portMac) await changeMac(podIf, pod.portMac);
      if (now.master !== bridge) await setMaster(podIf, bridge);
      if (!isUp(now)) await setUp(podIf, true);
      await addAddress(bridge, `${BRIDGE_SERVER_ADDRESS}/32`);
      await ensureTap(ctx, bridge, pod.mtu);
    } });

    const result: BindingResult = {
      name: nic.name,
      binding: "bridge",
      tap: ctx.tap,
      mac,
      mtu: pod.mtu,
      podInterface: podIf,
      bridge,
      podAddress: primary.local,
      podAddresses: [`${primary.local}/${primary.prefixlen}`],
      guestAddress: primary.local,
      guestAddresses: [`${primary.local}/${primary.prefixlen}`],
      dhcp: { iface: bridge, lease },
    };
    await recordResult(path, state, result);
    log(`bridge: interface "${nic.name}" on ${ctx.tap} via ${bridge} takes ${primary.local}/${primary.prefixlen} and ${mac} from ${podIf}`);
    return result;
  }

  async function tear(ctx: BindingContext): Promise<void> {
    const found = await stateToTear<BridgeState>("bridge", nic, ctx);
    if (found === null) return;
    const { path, state: s } = found;
    const podIf = s.input.podInterface;
    const bridge = bridgeName(podIf);
    await runAll(`tear down bridge binding for interface "${nic.name}"`, [
      () => releaseTap(s.input.tap, s.existingTap, s.input.multiQueue),
      async () => {
        const link = await getLink(podIf);
        if (link?.master === bridge) await setMaster(podIf, null);
      },
      () => deleteBridge(bridge),
      async () => {
        const link = await getLink(podIf);
        if (link !== null && link.address !== s.pod.mac) await changeMac(podIf, s.pod.mac);
      },
      async () => {
        for (const a of s.pod.addresses) await restoreAddress(a, podIf);
        for (const r of restoreOrder(s.pod.routes.filter((r) => !isKernelRoute(r)))) await restoreRoute(r, 4);
      },
    ]);
    await deleteState(path);
  }

  return {
    kind: "bridge",
    name: nic.name,
    setup,
    teardown: teardownWith("bridge", nic, () => remembered, tear),
  };
}
