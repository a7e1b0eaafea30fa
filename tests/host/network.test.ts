/**
 * Pod networking for VMs, in network namespaces this file creates:
 *
 *   node ns:  veth-pod 10.99.0.1/24 (fd99::1/64)      -- stands in for the node / the rest of the cluster
 *   pod ns:   eth0 10.99.0.2/24 (fd99::2/64), default via 10.99.0.1, MTU 1400, as a CNI plugin leaves it;
 *             the binding runs here (tests/host/fixtures/network/binding.ts under `ip netns exec`)
 *   guest ns: eth0, the peer of a veth whose pod end "tap0" takes the tap's place (existingTaps),
 *             where udhcpc and a small TCP server stand in for the VM
 *
 * 1. the NetworkBinding contract (tests/contracts/network-binding.ts) for both bindings;
 * 2. data path with udhcpc: the lease, TCP from the node to the guest (DNAT or
 *    bridged), from the guest out (masqueraded or not), the pod-local case,
 *    declared ports only, IPv6 masquerade; teardown restores the namespace;
 * 3. a real guest under QEMU/TCG on the binding's tap (the test guest from
 *    scripts/guest/build.sh, built by this suite when it is not cached).
 *
 * Every packet stays inside these namespaces; all are deleted in afterAll.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { VmiSpec } from "../../src/api/v1/vmi.ts";
import type { BindingContext, BindingKind, BindingResult } from "../../src/network/binding.ts";
import { bindingContract, type ContractPod } from "../contracts/network-binding.ts";
import type { NetworkingOptions } from "../../src/network/setup-networking.ts";
import { namespaceSnapshot, type NamespaceSnapshot } from "../../src/network/snapshot.ts";
import type { Interface, Network } from "../../src/network/spec.ts";
import { statePath } from "../../src/network/state.ts";
import { command, hostTier, root } from "../lib/host.ts";
import { buildGuest, GUEST_BUILD_TIMEOUT_MS } from "./fixtures/guest/build.ts";

const skip = hostTier("network", [root, command("ip", "iproute2"), command("nft", "nftables"), command("udhcpc", "udhcpc")]);

const BINDING = join(import.meta.dir, "fixtures", "network", "binding.ts");
const TCP = join(import.meta.dir, "fixtures", "network", "tcp.ts");
const TIMEOUT = 60_000;
const MTU = 1400;
const RESOLV = "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n";

/** udhcpc's event script: records the lease in $BVT_DHCP_OUT and configures eth0 like the test guest does. */
const SCRIPT = `#!/bin/sh
case "$1" in
deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up; exit 0 ;;
bound|renew) ;;
*) exit 0 ;;
esac
ip -4 addr flush dev "$interface"
ip addr add "$ip/$mask" dev "$interface"
[ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
if [ -n "$staticroutes" ]; then
  set -- $staticroutes
  while [ $# -ge 2 ]; do
    if [ "$2" = 0.0.0.0 ]; then ip route replace "$1" dev "$interface"; else ip route replace "$1" via "$2" dev "$interface"; fi
    shift 2
  done
elif [ -n "$router" ]; then
  ip route replace default via "$router" dev "$interface"
fi
{
  echo "event=$1"
  for v in ip mask router dns domain search mtu hostname lease staticroutes serverid; do
    eval "echo \\"$v=\\$$v\\""
  done
  echo "end"
} >> "$BVT_DHCP_OUT"
`;

type Env = Record<string, string>;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], env?: Env): Promise<Run> {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", ...(env ? { env: { ...process.env, ...env } } : {}) });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

async function sh(argv: string[], env?: Env): Promise<string> {
  const r = await run(argv, env);
  if (r.code !== 0) throw new Error(`Cannot run "${argv.join(" ")}": exit ${r.code}: "${r.stderr.trim()}"`);
  return r.stdout;
}

const inNs = (ns: string, argv: string[], env?: Env): Promise<string> => sh(["ip", "netns", "exec", ns, ...argv], env);

/**
 * Waits until the kernel is done with `dev` coming up: its IPv6 link-local
 * address exists, none of its addresses is tentative (DAD's flag), and the
 * link-local address has its local route. The kernel does this on its own
 * after `ip link set up` has returned (link watch, then DAD), with the
 * fe80::/64 and multicast routes; seen here, the pod's eth0 had none of them
 * right after setup and all of them a moment later, so a snapshot taken before
 * differs from every later one for reasons no binding controls.
 */
async function linkSettled(ns: string, dev: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const links = JSON.parse(await sh(["ip", "-n", ns, "-j", "-6", "addr", "show", "dev", dev])) as { addr_info?: { local?: string; scope?: string; tentative?: boolean }[] }[];
    const addrs = links[0]?.addr_info ?? [];
    const linkLocal = addrs.find((a) => a.scope === "link")?.local;
    if (linkLocal !== undefined && addrs.every((a) => a.tentative !== true)) {
      const local = JSON.parse(await sh(["ip", "-n", ns, "-j", "-6", "route", "show", "table", "local", "dev", dev])) as { dst?: string }[];
      if (local.some((r) => r.dst === linkLocal)) return;
    }
    if (Date.now() > deadline) throw new Error(`Cannot wait for "${dev}" in "${ns}" to settle: its IPv6 addresses after 10 s are ${JSON.stringify(addrs)}`);
    await Bun.sleep(20);
  }
}

/** Accumulates a stream's text; waitFor resolves with the first match. */
class Output {
  text = "";
  private closed = false;
  readonly done: Promise<void>;
  constructor(stream: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    this.done = (async () => {
      for await (const chunk of stream) this.text += decoder.decode(chunk, { stream: true });
      this.closed = true;
    })();
  }
  async waitFor(pattern: RegExp, timeoutMs: number, what: string): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.text.match(pattern);
      if (m) return m;
      if (this.closed || Date.now() > deadline) {
        throw new Error(`Cannot see ${what} (${pattern}): ${this.closed ? "the process ended" : `not within ${timeoutMs} ms`}; output so far:\n${this.text}`);
      }
      await Bun.sleep(50);
    }
  }
}

function events(path: string): Env[] {
  if (!existsSync(path)) return [];
  const out: Env[] = [];
  let current: Env = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line === "end") {
      out.push(current);
      current = {};
      continue;
    }
    const eq = line.indexOf("=");
    if (eq > 0) current[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

describe.skipIf(skip !== null)("pod networking for VMs", () => {
  const namespaces: string[] = [];
  const processes: Subprocess[] = [];
  let dir = "";
  let resolvConf = "";
  let script = "";
  let counter = 0;
  let leases = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bvt-net-"));
    resolvConf = join(dir, "resolv.conf");
    writeFileSync(resolvConf, RESOLV);
    script = join(dir, "udhcpc.script");
    writeFileSync(script, SCRIPT, { mode: 0o755 });
  });

  afterAll(async () => {
    for (const p of processes) {
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
      await p.exited;
    }
    for (const ns of namespaces.reverse()) await sh(["ip", "netns", "del", ns]).catch(() => {});
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  /** A namespace with lo up and IPv6 DAD off (addresses are usable at once; snapshots do not depend on timing). */
  async function namespace(role: string, id: number): Promise<string> {
    const ns = `bvt-net-${process.pid}-${id}-${role}`;
    namespaces.push(ns);
    await sh(["ip", "netns", "add", ns]);
    for (const scope of ["default", "all"]) await inNs(ns, ["sh", "-c", `echo 0 > /proc/sys/net/ipv6/conf/${scope}/accept_dad`]);
    await sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
    return ns;
  }

  interface Pod {
    id: number;
    node: string;
    pod: string;
    stateDir: string;
    mac: string;
  }

  /** node + pod namespaces joined by a veth, the pod end configured as CNI would and settled (linkSettled). */
  async function makePod(opts: { ipv6?: boolean; extraRoute?: boolean } = {}): Promise<Pod> {
    const id = ++counter;
    const node = await namespace("node", id);
    const pod = await namespace("pod", id);
    await sh(["ip", "-n", node, "link", "add", "veth-pod", "mtu", String(MTU), "type", "veth", "peer", "name", "eth0", "mtu", String(MTU), "netns", pod]);
    await sh(["ip", "-n", node, "addr", "add", "10.99.0.1/24", "dev", "veth-pod"]);
    await sh(["ip", "-n", node, "link", "set", "veth-pod", "up"]);
    await sh(["ip", "-n", pod, "addr", "add", "10.99.0.2/24", "dev", "eth0"]);
    await sh(["ip", "-n", pod, "link", "set", "eth0", "up"]);
    await sh(["ip", "-n", pod, "route", "add", "default", "via", "10.99.0.1"]);
    if (opts.extraRoute === true) {
      await sh(["ip", "-n", pod, "route", "add", "10.123.0.0/16", "via", "10.99.0.1", "metric", "7"]);
      // Policy routing: a route in another table, flushed with the address and put back by teardown.
      await sh(["ip", "-n", pod, "route", "add", "10.124.0.0/16", "via", "10.99.0.1", "proto", "static", "table", "100"]);
    }
    if (opts.ipv6 === true) {
      await sh(["ip", "-n", node, "addr", "add", "fd99::1/64", "dev", "veth-pod", "nodad"]);
      await sh(["ip", "-n", pod, "addr", "add", "fd99::2/64", "dev", "eth0", "nodad"]);
      await sh(["ip", "-n", pod, "-6", "route", "add", "default", "via", "fd99::1"]);
    }
    await linkSettled(pod, "eth0");
    const stateDir = join(dir, pod, "state");
    mkdirSync(stateDir, { recursive: true });
    const link = JSON.parse(await sh(["ip", "-n", pod, "-j", "link", "show", "dev", "eth0"])) as { address: string }[];
    return { id, node, pod, stateDir, mac: link[0]?.address ?? "" };
  }

  const snapshot = (ns: string): Promise<NamespaceSnapshot> => namespaceSnapshot((argv) => inNs(ns, argv));

  /** Runs the binding fixture once in `ns`; rejects with its error message. */
  async function fixture(ns: string, args: unknown): Promise<string> {
    const r = await run(["ip", "netns", "exec", ns, process.execPath, BINDING, JSON.stringify(args)]);
    if (r.code !== 0) throw new Error(r.stderr.trim() === "" ? `binding fixture exit ${r.code}: ${r.stdout}` : r.stderr.trim());
    return r.stdout;
  }

  function bindingCtx(p: Pod, ctx: Partial<BindingContext> = {}): BindingContext {
    return { podInterface: "eth0", tap: "tap0", stateDir: p.stateDir, resolvConf, hostname: "testvm", ...ctx };
  }

  const harness = {
    async pod(): Promise<ContractPod> {
      const p = await makePod();
      const call = async (op: "setup" | "teardown", kind: BindingKind, nic: Interface, network: Network | undefined, ctx?: Partial<BindingContext>): Promise<string> =>
        fixture(p.pod, { op, kind, nic, ...(network !== undefined ? { network } : {}), ctx: bindingCtx(p, ctx) });
      return {
        podInterface: { name: "eth0", mac: p.mac, mtu: MTU, address: "10.99.0.2/24" },
        snapshot: () => snapshot(p.pod),
        async setup(kind, nic, network, ctx) {
          const out = await call("setup", kind, nic, network, ctx);
          const line = out.split("\n").find((l) => l.startsWith("result "));
          if (line === undefined) throw new Error(`binding fixture printed no result: ${out}`);
          return JSON.parse(line.slice("result ".length)) as BindingResult;
        },
        async teardown(kind, nic, network, ctx) {
          await call("teardown", kind, nic, network, ctx);
        },
        state() {
          const path = statePath(p.stateDir, "eth0");
          return existsSync(path) ? readFileSync(path, "utf8") : null;
        },
        ip: (args) => sh(["ip", "-n", p.pod, ...args]),
        async link(dev) {
          const r = await run(["ip", "-n", p.pod, "-j", "-d", "link", "show", "dev", dev]);
          if (r.code !== 0) return null;
          return (JSON.parse(r.stdout) as Record<string, unknown>[])[0] ?? null;
        },
      };
    },
  };

  const podNetwork: Network = { name: "default", pod: {} };

  bindingContract(
    {
      kind: "masquerade",
      nic: { name: "default", masquerade: {}, ports: [{ port: 22 }, { port: 53, protocol: "UDP" }] },
      network: podNetwork,
      badInputs: [
        { what: "a bad vmNetworkCIDR", nic: { name: "default", masquerade: {} }, network: { name: "default", pod: { vmNetworkCIDR: "10.0.2.1/24" } }, error: /vmNetworkCIDR "10\.0\.2\.1\/24" has host bits set/ },
        { what: "a vmNetworkCIDR too small", nic: { name: "default", masquerade: {} }, network: { name: "default", pod: { vmNetworkCIDR: "10.0.2.0/31" } }, error: /too small/ },
        { what: "a bad vmIPv6NetworkCIDR", nic: { name: "default", masquerade: {} }, network: { name: "default", pod: { vmIPv6NetworkCIDR: "fd10::zz/120" } }, error: /is not an IPv6 CIDR/ },
      ],
      checkResult(result, pod) {
        expect(result).toMatchObject({
          tap: "tap0",
          bridge: "k6t-eth0",
          podAddress: "10.99.0.2",
          podAddresses: ["10.99.0.2/24"],
          guestAddress: "10.0.2.2",
          guestAddresses: ["10.0.2.2/24"],
        });
        expect(result.dhcp.lease).toEqual({
          clientMac: result.mac,
          address: "10.0.2.2",
          prefixLength: 24,
          router: "10.0.2.1",
          dns: ["10.96.0.10"],
          searchDomains: ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"],
          hostname: "testvm",
          mtu: pod.podInterface.mtu,
          leaseSeconds: 0xffffffff,
          serverId: "10.0.2.1",
        });
      },
    },
    harness,
  );

  bindingContract(
    {
      kind: "bridge",
      nic: { name: "default", bridge: {} },
      network: podNetwork,
      badInputs: [],
      checkResult(result, pod) {
        expect(result).toMatchObject({
          tap: "tap0",
          bridge: "k6t-eth0",
          mac: pod.podInterface.mac,
          podAddress: "10.99.0.2",
          guestAddress: "10.99.0.2",
          guestAddresses: ["10.99.0.2/24"],
        });
        expect(result.dhcp.lease).toMatchObject({
          clientMac: pod.podInterface.mac,
          address: "10.99.0.2",
          prefixLength: 24,
          router: "10.99.0.1",
          serverId: "169.254.75.10",
          classlessRoutes: [{ destination: "169.254.75.10", prefixLength: 32, gateway: "0.0.0.0" }],
        });
      },
    },
    harness,
  );

  // ---- data path: udhcpc and TCP in the guest namespace ----------------------

  interface Serving {
    interfaces: Record<string, BindingResult>;
    output: Output;
    /** SIGTERM: the fixture tears down and exits 0. */
    stop(): Promise<string>;
    /** SIGKILL: a crashed launcher, nothing torn down. */
    kill(): Promise<void>;
  }

  async function serve(ns: string, spec: VmiSpec, options: NetworkingOptions): Promise<Serving> {
    const p = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, BINDING, JSON.stringify({ op: "serve", spec, options })], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    processes.push(p);
    const output = new Output(p.stdout);
    const errors = new Output(p.stderr);
    let m: RegExpMatchArray;
    try {
      m = await output.waitFor(/^ready (.*)$/m, 20_000, "the binding fixture's ready line");
    } catch (e) {
      await errors.done;
      throw new Error(`${e instanceof Error ? e.message : String(e)}\nstderr: ${errors.text}`);
    }
    return {
      interfaces: JSON.parse(m[1] ?? "{}") as Record<string, BindingResult>,
      output,
      async stop() {
        p.kill("SIGTERM");
        const code = await p.exited;
        await Promise.all([output.done, errors.done]);
        expect({ code, stderr: errors.text }).toEqual({ code: 0, stderr: "" });
        expect(output.text).toContain("stopped\n");
        return output.text;
      },
      async kill() {
        p.kill("SIGKILL");
        await p.exited;
        await Promise.all([output.done, errors.done]);
      },
    };
  }

  /** The guest namespace, joined to the pod by a veth whose pod end is "tap0"; the guest end gets `mac`. */
  async function guestNs(p: Pod, mac: string): Promise<string> {
    const guest = await namespace("guest", p.id);
    await sh(["ip", "-n", p.pod, "link", "add", "tap0", "type", "veth", "peer", "name", "eth0", "netns", guest]);
    await sh(["ip", "-n", guest, "link", "set", "eth0", "address", mac]);
    await sh(["ip", "-n", guest, "link", "set", "eth0", "up"]);
    // Up before the "before" snapshot: a veth's first "up" attaches a qdisc, which no "down" removes.
    await sh(["ip", "-n", p.pod, "link", "set", "tap0", "up"]);
    return guest;
  }

  async function udhcpc(guest: string, extra: string[] = []): Promise<Env> {
    const out = join(dir, `${guest}.${++leases}.lease`);
    const r = await run(["ip", "netns", "exec", guest, "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "5", "-T", "1", "-s", script, "-O", "mtu", "-O", "search", ...extra], {
      BVT_DHCP_OUT: out,
    });
    expect({ code: r.code, log: r.stdout + r.stderr }).toMatchObject({ code: 0 });
    const got = events(out);
    expect(got).toHaveLength(1);
    return got[0] ?? {};
  }

  async function tcpServer(ns: string, name: string, host: string, ports: number[]): Promise<void> {
    const p = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, TCP, "serve", host, ...ports.map(String)], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "inherit",
      env: { ...process.env, BVT_NAME: name },
    });
    processes.push(p);
    await new Output(p.stdout).waitFor(/^listening$/m, 10_000, `the ${name} TCP server`);
  }

  /** One line from HOST:PORT as seen from `ns`, or "failed: REASON". */
  async function tcpGet(ns: string, host: string, port: number, timeoutMs = 5000): Promise<string> {
    const r = await run(["ip", "netns", "exec", ns, process.execPath, TCP, "get", host, String(port)], { BVT_TIMEOUT_MS: String(timeoutMs) });
    return r.code === 0 ? r.stdout.trim() : `failed: ${r.stderr.trim()}`;
  }

  const GUEST_MAC = "02:00:00:aa:bb:01";

  test(
    "masquerade, all ports: udhcpc gets 10.0.2.2/24 and the pod's DNS, MTU, host name; TCP in (DNAT), out (masquerade) and pod-local",
    async () => {
      const p = await makePod();
      const guest = await guestNs(p, GUEST_MAC);
      const before = await snapshot(p.pod);
      const spec: VmiSpec = {
        domain: { devices: { interfaces: [{ name: "default", masquerade: {}, macAddress: GUEST_MAC }] } },
        networks: [{ name: "default", pod: {} }],
      };
      const server = await serve(p.pod, spec, { stateDir: p.stateDir, resolvConf, hostname: "testvm", existingTaps: true });
      expect(server.interfaces.default).toMatchObject({ tap: "tap0", mac: GUEST_MAC, mtu: MTU, guestAddress: "10.0.2.2", podAddress: "10.99.0.2" });

      const lease = await udhcpc(guest);
      expect(lease).toMatchObject({
        event: "bound",
        ip: "10.0.2.2",
        mask: "24",
        router: "10.0.2.1",
        dns: "10.96.0.10",
        search: "default.svc.cluster.local svc.cluster.local cluster.local",
        mtu: String(MTU),
        hostname: "testvm",
        serverid: "10.0.2.1",
      });

      await tcpServer(guest, "guest", "0.0.0.0", [8080, 9090]);
      await tcpServer(p.node, "node", "10.99.0.1", [7070]);
      // In: the node reaches the guest at the pod IP, on any port; the guest sees the node's address.
      expect(await tcpGet(p.node, "10.99.0.2", 8080)).toBe("hello guest 8080 10.99.0.1");
      expect(await tcpGet(p.node, "10.99.0.2", 9090)).toBe("hello guest 9090 10.99.0.1");
      // Out: the node sees the guest's connections coming from the pod IP.
      expect(await tcpGet(guest, "10.99.0.1", 7070)).toBe("hello node 7070 10.99.0.2");
      // Pod-local: a process in the pod connecting to the pod IP reaches the guest.
      expect(await tcpGet(p.pod, "10.99.0.2", 8080)).toBe("hello guest 8080 10.99.0.2");

      const log = await server.stop();
      expect(log).toContain(`dhcp REQUEST -> ACK mac=${GUEST_MAC} address=10.0.2.2`);
      expect(await snapshot(p.pod)).toEqual(before);
      expect(await tcpGet(p.node, "10.99.0.2", 8080)).toStartWith("failed: ");
    },
    TIMEOUT,
  );

  test(
    "masquerade with declared ports: only TCP 8080 reaches the guest; vmNetworkCIDR moves the VM network",
    async () => {
      const p = await makePod();
      const guest = await guestNs(p, GUEST_MAC);
      const before = await snapshot(p.pod);
      const spec: VmiSpec = {
        domain: { devices: { interfaces: [{ name: "default", masquerade: {}, macAddress: GUEST_MAC, ports: [{ name: "http", port: 8080 }, { port: 5353, protocol: "UDP" }] }] } },
        networks: [{ name: "default", pod: { vmNetworkCIDR: "10.11.12.0/28" } }],
      };
      const server = await serve(p.pod, spec, { stateDir: p.stateDir, resolvConf, hostname: "testvm", existingTaps: true });
      const lease = await udhcpc(guest);
      expect(lease).toMatchObject({ ip: "10.11.12.2", mask: "28", router: "10.11.12.1", serverid: "10.11.12.1" });

      await tcpServer(guest, "guest", "0.0.0.0", [8080, 9090]);
      expect(await tcpGet(p.node, "10.99.0.2", 8080)).toBe("hello guest 8080 10.99.0.1");
      expect(await tcpGet(p.node, "10.99.0.2", 9090)).toMatch(/^failed: Cannot connect/);
      expect(await tcpGet(p.pod, "10.99.0.2", 8080)).toBe("hello guest 8080 10.99.0.2");
      expect(await tcpGet(p.pod, "10.99.0.2", 9090)).toMatch(/^failed: Cannot connect/);
      // Routed straight at the VM network instead of the pod IP: dropped by the forward chain.
      await sh(["ip", "-n", p.node, "route", "add", "10.11.12.0/28", "via", "10.99.0.2"]);
      expect(await tcpGet(p.node, "10.11.12.2", 9090, 1500)).toMatch(/^failed: /);

      await server.stop();
      expect(await snapshot(p.pod)).toEqual(before);
    },
    TIMEOUT,
  );

  test(
    "masquerade with IPv6: fd10:0:2::1/120 on the bridge, ip6 NAT both ways (the guest's IPv6 is static: no DHCPv6)",
    async () => {
      const p = await makePod({ ipv6: true });
      const guest = await guestNs(p, GUEST_MAC);
      const before = await snapshot(p.pod);
      const spec: VmiSpec = {
        domain: { devices: { interfaces: [{ name: "default", masquerade: {}, macAddress: GUEST_MAC }] } },
        networks: [{ name: "default", pod: {} }],
      };
      const server = await serve(p.pod, spec, { stateDir: p.stateDir, resolvConf, existingTaps: true });
      expect(server.interfaces.default).toMatchObject({
        podAddresses: ["10.99.0.2/24", "fd99::2/64"],
        guestAddresses: ["10.0.2.2/24", "fd10:0:2::2/120"],
      });
      expect(await inNs(p.pod, ["cat", "/proc/sys/net/ipv6/conf/all/forwarding"])).toBe("1\n");
      await udhcpc(guest);
      await sh(["ip", "-n", guest, "addr", "add", "fd10:0:2::2/120", "dev", "eth0", "nodad"]);
      await sh(["ip", "-n", guest, "-6", "route", "add", "default", "via", "fd10:0:2::1"]);

      await tcpServer(guest, "guest", "::", [8080]);
      await tcpServer(p.node, "node", "fd99::1", [7070]);
      expect(await tcpGet(p.node, "fd99::2", 8080)).toBe("hello guest 8080 fd99::1");
      expect(await tcpGet(guest, "fd99::1", 7070)).toBe("hello node 7070 fd99::2");
      // IPv4 still works beside it.
      expect(await tcpGet(p.node, "10.99.0.2", 8080)).toMatch(/^hello guest 8080 (::ffff:)?10\.99\.0\.1$/);

      await server.stop();
      expect(await snapshot(p.pod)).toEqual(before);
    },
    TIMEOUT,
  );

  test(
    "bridge: the guest takes the pod's MAC and 10.99.0.2/24 with its gateway and routes; reachable at that address, not NATed",
    async () => {
      const p = await makePod({ extraRoute: true });
      const guest = await guestNs(p, p.mac);
      const before = await snapshot(p.pod);
      const spec: VmiSpec = {
        domain: { devices: { interfaces: [{ name: "default", bridge: {} }] } },
        networks: [{ name: "default", pod: {} }],
      };
      const server = await serve(p.pod, spec, { stateDir: p.stateDir, resolvConf, hostname: "bridged", existingTaps: true });
      expect(server.interfaces.default).toMatchObject({ tap: "tap0", mac: p.mac, mtu: MTU, guestAddress: "10.99.0.2" });
      // The pod interface: no IPv4 any more, a new MAC, a port of the bridge.
      const eth0 = (JSON.parse(await sh(["ip", "-n", p.pod, "-j", "addr", "show", "dev", "eth0"])) as { address: string; master?: string; addr_info: { family: string }[] }[])[0];
      expect(eth0?.master).toBe("k6t-eth0");
      expect(eth0?.address).not.toBe(p.mac);
      expect(eth0?.addr_info.filter((a) => a.family === "inet")).toEqual([]);

      const lease = await udhcpc(guest, ["-O", "staticroutes"]);
      expect(lease).toMatchObject({
        ip: "10.99.0.2",
        mask: "24",
        router: "10.99.0.1",
        dns: "10.96.0.10",
        mtu: String(MTU),
        hostname: "bridged",
        serverid: "169.254.75.10",
        staticroutes: "169.254.75.10/32 0.0.0.0 10.123.0.0/16 10.99.0.1 0.0.0.0/0 10.99.0.1",
      });

      await tcpServer(guest, "guest", "0.0.0.0", [8080]);
      await tcpServer(p.node, "node", "10.99.0.1", [7070]);
      expect(await tcpGet(p.node, "10.99.0.2", 8080)).toBe("hello guest 8080 10.99.0.1");
      expect(await tcpGet(guest, "10.99.0.1", 7070)).toBe("hello node 7070 10.99.0.2");

      const log = await server.stop();
      expect(log).toContain(`dhcp REQUEST -> ACK mac=${p.mac} address=10.99.0.2`);
      // The pod has its address, MAC and routes back.
      expect(await snapshot(p.pod)).toEqual(before);
    },
    TIMEOUT,
  );

  test(
    "bridge, launcher killed: a new launcher reuses the namespace (from the state file), serves the same lease, and its teardown restores everything",
    async () => {
      const p = await makePod();
      const guest = await guestNs(p, p.mac);
      const before = await snapshot(p.pod);
      const spec: VmiSpec = {
        domain: { devices: { interfaces: [{ name: "default", bridge: {} }] } },
        networks: [{ name: "default", pod: {} }],
      };
      const options: NetworkingOptions = { stateDir: p.stateDir, resolvConf, hostname: "bridged", existingTaps: true };
      const first = await serve(p.pod, spec, options);
      expect(await udhcpc(guest)).toMatchObject({ ip: "10.99.0.2", router: "10.99.0.1" });
      await first.kill();

      const second = await serve(p.pod, spec, options);
      expect(second.interfaces).toEqual(first.interfaces);
      await sh(["ip", "-n", guest, "addr", "flush", "dev", "eth0"]);
      expect(await udhcpc(guest)).toMatchObject({ ip: "10.99.0.2", router: "10.99.0.1", serverid: "169.254.75.10" });
      await tcpServer(guest, "guest", "0.0.0.0", [8080]);
      expect(await tcpGet(p.node, "10.99.0.2", 8080)).toBe("hello guest 8080 10.99.0.1");

      await second.stop();
      expect(await snapshot(p.pod)).toEqual(before);
    },
    TIMEOUT,
  );

  test(
    "setupNetworking refuses what admission cannot know before it changes anything",
    async () => {
      const p = await makePod();
      const before = await snapshot(p.pod);
      // What admission cannot know: the launcher's names for the pod's devices.
      const cases: [VmiSpec, Partial<NetworkingOptions>, RegExp][] = [
        [{ domain: { devices: { interfaces: [{ name: "a", masquerade: {} }] } }, networks: [{ name: "a", pod: {} }] }, { podInterface: "a/b" }, /podInterface "a\/b" must not contain/],
        [{ domain: { devices: { interfaces: [{ name: "a", bridge: {} }] } }, networks: [{ name: "a", pod: {} }] }, { taps: { a: "tap-with-a-long-name" } }, /tap "tap-with-a-long-name" must be 1 to 15 characters long/],
      ];
      for (const [spec, extra, error] of cases) {
        const r = await run(["ip", "netns", "exec", p.pod, process.execPath, BINDING, JSON.stringify({ op: "serve", spec, options: { ...extra, stateDir: p.stateDir, resolvConf } })]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/^Cannot set up networking: /);
        expect(r.stderr).toMatch(error);
        expect(await snapshot(p.pod)).toEqual(before);
      }
    },
    TIMEOUT,
  );

  // ---- a real guest under QEMU/TCG ------------------------------------------

  const qemuSkip = hostTier("network-qemu", [command("qemu-system-x86_64", "qemu-system-x86")]);
  let guestDisk = "";
  const BOOT_MS = 5 * 60_000;

  async function bootGuest(p: Pod, nic: BindingResult): Promise<{ serial: Output; stop(): Promise<void> }> {
    const qemu = Bun.spawn(
      [
        "ip", "netns", "exec", p.pod,
        "qemu-system-x86_64",
        "-machine", "q35,accel=tcg",
        "-m", "128",
        "-nodefaults",
        "-display", "none",
        "-serial", "stdio",
        "-drive", `if=none,id=boot,file=${guestDisk},format=raw,snapshot=on`,
        "-device", "virtio-blk-pci,drive=boot,bootindex=1",
        "-netdev", `tap,id=n0,ifname=${nic.tap},script=no,downscript=no`,
        "-device", `virtio-net-pci,netdev=n0,mac=${nic.mac}`,
      ],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    processes.push(qemu);
    const serial = new Output(qemu.stdout);
    const errors = new Output(qemu.stderr);
    return {
      serial,
      async stop() {
        qemu.kill("SIGKILL");
        await qemu.exited;
        await Promise.all([serial.done, errors.done]);
      },
    };
  }

  /** Retries while the guest's services come up. */
  async function tcpGetRetry(ns: string, host: string, port: number): Promise<string> {
    let said = "";
    for (let i = 0; i < 20; i++) {
      said = await tcpGet(ns, host, port);
      if (!said.startsWith("failed: ")) return said;
      await Bun.sleep(1000);
    }
    return said;
  }

  describe.skipIf(qemuSkip !== null)("with the test guest under QEMU", () => {
    beforeAll(async () => {
      guestDisk = join(await buildGuest("build.sh"), "disk.img");
    }, GUEST_BUILD_TIMEOUT_MS);

    test(
      "masquerade (the default for a VMI without interfaces): the guest's lease line, then pod IP:8080 and :22 answer",
      async () => {
        const p = await makePod();
        const before = await snapshot(p.pod);
        // No interfaces, no networks: applyVmiDefaults attaches the pod network with masquerade.
        const server = await serve(p.pod, { domain: { devices: {} } }, { stateDir: p.stateDir, resolvConf, hostname: "testvm", vmiKey: "default/testvm" });
        const nic = server.interfaces.default;
        if (nic === undefined) throw new Error("no interface named default");
        expect(nic).toMatchObject({ binding: "masquerade", tap: "tap0", guestAddress: "10.0.2.2" });
        const vm = await bootGuest(p, nic);
        try {
          await vm.serial.waitFor(/^bunvirt-guest: lease 10\.0\.2\.2\/24 router 10\.0\.2\.1 dns 10\.96\.0\.10 mtu 1400\r?$/m, BOOT_MS, "the guest's lease line");
          await vm.serial.waitFor(/^bunvirt-guest: ready\r?$/m, BOOT_MS, "the guest's ready line");
          expect(await tcpGetRetry(p.node, "10.99.0.2", 8080)).toBe("bunvirt-guest testvm");
          expect(await tcpGetRetry(p.node, "10.99.0.2", 22)).toBe("bunvirt-guest testvm");
        } finally {
          await vm.stop();
        }
        await server.stop();
        expect(await snapshot(p.pod)).toEqual(before);
      },
      BOOT_MS * 2,
    );

    test(
      "bridge: the guest leases the pod's address and answers at 10.99.0.2:8080",
      async () => {
        const p = await makePod();
        const before = await snapshot(p.pod);
        const spec: VmiSpec = { domain: { devices: { interfaces: [{ name: "default", bridge: {} }] } }, networks: [{ name: "default", pod: {} }] };
        const server = await serve(p.pod, spec, { stateDir: p.stateDir, resolvConf, hostname: "bridged" });
        const nic = server.interfaces.default;
        if (nic === undefined) throw new Error("no interface named default");
        expect(nic.mac).toBe(p.mac);
        const vm = await bootGuest(p, nic);
        try {
          await vm.serial.waitFor(/^bunvirt-guest: lease 10\.99\.0\.2\/24 router 10\.99\.0\.1 dns 10\.96\.0\.10 mtu 1400\r?$/m, BOOT_MS, "the guest's lease line");
          await vm.serial.waitFor(/^bunvirt-guest: ready\r?$/m, BOOT_MS, "the guest's ready line");
          expect(await tcpGetRetry(p.node, "10.99.0.2", 8080)).toBe("bunvirt-guest bridged");
        } finally {
          await vm.stop();
        }
        await server.stop();
        expect(await snapshot(p.pod)).toEqual(before);
      },
      BOOT_MS * 2,
    );
  });
});
