/**
 * Masquerade binding (KubeVirt's default for the pod network): the VM sits
 * behind NAT on a private network on a bridge of its own.
 *
 *   POD_IF (pod IP, untouched) <-nft NAT-> k6t-POD_IF 10.0.2.1/24 <- tap <- VM 10.0.2.2
 *
 * The guest learns 10.0.2.2/24, router 10.0.2.1, DNS and search list from
 * the pod's resolv.conf, the pod interface's MTU and its host name from the
 * DHCP server (started by setupNetworking). networks[].pod.vmNetworkCIDR
 * moves the private network (gateway: first host, guest: second).
 *
 * IPv6, when the pod interface has a global IPv6 address: the bridge gets
 * fd10:0:2::1/120 (or vmIPv6NetworkCIDR's first host), the same NAT rules
 * go into `table ip6 bunvirt` and forwarding is switched on. No DHCPv6 or
 * router advertisements: the guest must configure fd10:0:2::2/120 with
 * gateway fd10:0:2::1 itself (e.g. cloud-init network data).
 */
import type { BindingContext, BindingResult, NetworkBinding } from "../binding.ts";
import { type VmNetwork, vmNetwork4, vmNetwork6 } from "../cidr.ts";
import { applyChange, checkLease, recordResult, stateToTear, teardownWith } from "../binding-steps.ts";
import { INFINITE_LEASE, type LeaseConfig } from "../dhcp/index.ts";
import {
  type DeviceOriginal,
  deleteBridge,
  ensureBridge,
  ensureTap,
  randomMac,
  readResolvConf,
  recordDevice,
  releaseTap,
  tapProblem,
} from "../devices.ts";
import { runAll } from "../exec.ts";
import { addAddress, getAddresses, getLink, globalAddresses } from "../iproute.ts";
import { deleteTable, replaceTable, tableContent } from "../nft.ts";
import type { Interface, Network } from "../spec.ts";
import { setupFailure, startSetup, type BindingInput } from "../setup-start.ts";
import { deleteState } from "../state.ts";
import { readSysctl, writeSysctl } from "../sysctl.ts";
import { normalizeMac } from "../../api/mac.ts";
import { bridgeName } from "../validate.ts";
import { masqueradeTableBody, type PortRule } from "./rules.ts";

export const defaultVmNetworkCIDR = "10.0.2.0/24";
export const defaultVmIPv6NetworkCIDR = "fd10:0:2::/120";

const IPV4_FORWARD = "net.ipv4.ip_forward";
const IPV6_FORWARD = "net.ipv6.conf.all.forwarding";

interface PodSide {
  mtu: number;
  ipv4: { address: string; prefixLength: number };
  ipv6: { address: string; prefixLength: number } | null;
}

/** What the state file holds for a masquerade binding. */
export interface MasqueradeState {
  version: 1;
  kind: "masquerade";
  /** What setup was asked for; a later setup must ask for the same. */
  input: BindingInput;
  /** The pod interface when first set up. */
  pod: PodSide;
  mac: string;
  /** How the device given as tap was (existingTap), else null. */
  existingTap: DeviceOriginal | null;
  /** Sysctl values before setup, restored by teardown. */
  sysctls: Record<string, string>;
  /** The tables' content after setup loaded them (for "is it still ours, unchanged?"). */
  nft: { ip?: unknown; ip6?: unknown };
  result?: BindingResult;
}

function portRules(nic: Interface): PortRule[] | null {
  const ports = nic.ports ?? [];
  if (ports.length === 0) return null;
  return ports.map((p) => ({ protocol: (p.protocol ?? "TCP") === "UDP" ? "udp" : "tcp", port: p.port }));
}

function fail(nic: Interface, problems: string[]): Error {
  return setupFailure("masquerade", nic, problems);
}

async function readPod(podInterface: string): Promise<PodSide | string> {
  const link = await getLink(podInterface);
  if (link === null) return `pod interface "${podInterface}" does not exist in this network namespace`;
  const addresses = await getAddresses(podInterface);
  const v4 = globalAddresses(addresses, "inet")[0];
  if (v4 === undefined) return `pod interface "${podInterface}" has no IPv4 address`;
  const v6 = globalAddresses(addresses, "inet6")[0];
  return {
    mtu: link.mtu,
    ipv4: { address: v4.local, prefixLength: v4.prefixlen },
    ipv6: v6 === undefined ? null : { address: v6.local, prefixLength: v6.prefixlen },
  };
}

export function masqueradeBinding(nic: Interface, network: Network | undefined): NetworkBinding {
  let remembered: BindingContext | null = null;

  async function setup(ctx: BindingContext): Promise<BindingResult> {
    remembered = ctx;
    // ---- checks: nothing is changed before all of them pass ----
    const { log, bridge, path, input, prior } = await startSetup<MasqueradeState>("masquerade", nic, network, ctx);
    // Admission refuses unsound VM networks; parsing them here also yields the gateway and guest addresses.
    const net4 = vmNetwork4(network?.pod?.vmNetworkCIDR ?? defaultVmNetworkCIDR);
    const cidr6 = vmNetwork6(network?.pod?.vmIPv6NetworkCIDR ?? defaultVmIPv6NetworkCIDR);
    const cidrProblems = [...(typeof net4 === "string" ? [`vmNetworkCIDR ${net4}`] : []), ...(typeof cidr6 === "string" ? [`vmIPv6NetworkCIDR ${cidr6}`] : [])];
    if (typeof net4 === "string" || typeof cidr6 === "string") throw fail(nic, cidrProblems);
    const pod = prior?.pod ?? (await readPod(ctx.podInterface));
    if (typeof pod === "string") throw fail(nic, [pod]);
    if (prior !== null && (await getLink(ctx.podInterface)) === null) throw fail(nic, [`pod interface "${ctx.podInterface}" does not exist in this network namespace`]);
    const bridgeLink = await getLink(bridge);
    if (bridgeLink !== null && prior === null) throw fail(nic, [`bridge "${bridge}" already exists and was not made by an earlier setup`]);
    const tapIssue = tapProblem(ctx, await getLink(ctx.tap), prior !== null);
    if (tapIssue !== null) throw fail(nic, [tapIssue]);
    const net6: VmNetwork | null = pod.ipv6 === null ? null : cidr6;
    const mac = prior?.mac ?? normalizeMac(nic.macAddress ?? ctx.defaultMac ?? "") ?? randomMac();
    const resolv = await readResolvConf(ctx.resolvConf ?? "/etc/resolv.conf");
    const lease: LeaseConfig = {
      clientMac: mac,
      address: net4.guest,
      prefixLength: net4.prefixLength,
      router: net4.gateway,
      dns: resolv.dns,
      searchDomains: resolv.searchDomains,
      mtu: pod.mtu,
      leaseSeconds: INFINITE_LEASE,
      serverId: net4.gateway,
      ...(ctx.hostname !== undefined ? { hostname: ctx.hostname } : {}),
    };
    checkLease("masquerade", nic, lease);

    // ---- remember what we are about to change, then change it ----
    const state: MasqueradeState = prior ?? {
      version: 1,
      kind: "masquerade",
      input,
      pod,
      mac,
      existingTap: ctx.existingTap === true ? await recordDevice(ctx.tap) : null,
      sysctls: {
        [IPV4_FORWARD]: await readSysctl(IPV4_FORWARD),
        ...(net6 !== null ? { [IPV6_FORWARD]: await readSysctl(IPV6_FORWARD) } : {}),
      },
      nft: {},
    };
    await applyChange({ kind: "masquerade", nic, path, prior, state, log, undo: () => tear(ctx), change: async () => {
      await ensureBridge(bridge, pod.mtu);
      await addAddress(bridge, `${net4.gateway}/${net4.prefixLength}`);
      if (net6 !== null) await addAddress(bridge, `${net6.gateway}/${net6.prefixLength}`, ["nodad"]);
      await ensureTap(ctx, bridge, pod.mtu);
      for (const key of Object.keys(state.sysctls)) {
        if ((await readSysctl(key)) !== "1") await writeSysctl(key, "1");
      }
      const ports = portRules(nic);
      const tables: ["ip" | "ip6", string, string][] = [["ip", pod.ipv4.address, net4.guest]];
      if (net6 !== null && pod.ipv6 !== null) tables.push(["ip6", pod.ipv6.address, net6.guest]);
      for (const [family, podAddress, guest] of tables) {
        const current = await tableContent(family);
        if (current !== null && state.nft[family] !== undefined && JSON.stringify(current) === JSON.stringify(state.nft[family])) continue;
        if (current !== null) log(`masquerade: table ${family} bunvirt differs from what setup loaded; replacing it`);
        await replaceTable(family, masqueradeTableBody({ family, podInterface: ctx.podInterface, bridge, podAddress, guest, ports }));
        state.nft[family] = await tableContent(family);
      }
    } });

    const result: BindingResult = {
      name: nic.name,
      binding: "masquerade",
      tap: ctx.tap,
      mac,
      mtu: pod.mtu,
      podInterface: ctx.podInterface,
      bridge,
      podAddress: pod.ipv4.address,
      podAddresses: [`${pod.ipv4.address}/${pod.ipv4.prefixLength}`, ...(pod.ipv6 !== null ? [`${pod.ipv6.address}/${pod.ipv6.prefixLength}`] : [])],
      guestAddress: net4.guest,
      guestAddresses: [`${net4.guest}/${net4.prefixLength}`, ...(net6 !== null ? [`${net6.guest}/${net6.prefixLength}`] : [])],
      dhcp: { iface: bridge, lease },
    };
    await recordResult(path, state, result);
    log(`masquerade: interface "${nic.name}" on ${ctx.tap} via ${bridge}, guest ${result.guestAddresses.join(", ")} behind ${result.podAddresses.join(", ")}`);
    return result;
  }

  async function tear(ctx: BindingContext): Promise<void> {
    const found = await stateToTear<MasqueradeState>("masquerade", nic, ctx);
    if (found === null) return;
    const { path, state: s } = found;
    const bridge = bridgeName(s.input.podInterface);
    // Every step runs even when one fails; the state file goes only when all worked.
    await runAll(`tear down masquerade binding for interface "${nic.name}"`, [
      () => deleteTable("ip"),
      () => deleteTable("ip6"),
      () => releaseTap(s.input.tap, s.existingTap, s.input.multiQueue),
      () => deleteBridge(bridge),
      ...Object.entries(s.sysctls).map(([key, value]) => async () => {
        if ((await readSysctl(key)) !== value) await writeSysctl(key, value);
      }),
    ]);
    await deleteState(path);
  }

  return {
    kind: "masquerade",
    name: nic.name,
    setup,
    teardown: teardownWith("masquerade", nic, () => remembered, tear),
  };
}
