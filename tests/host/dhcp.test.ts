/**
 * The per-VM DHCP server against a real client (busybox udhcpc), each side in
 * a network namespace this file creates:
 *
 *   server ns: br0 (the pod's bridge, with an address) <- vm0 (veth)
 *   client ns: eth0 (the veth peer, standing in for the VM's tap), MAC fixed
 *
 * The server runs as `ip netns exec SRV bun tests/host/fixtures/dhcp-serve.ts`
 * and uses the real iproute2 link (neighbour entry, /32 route when needed).
 * All traffic stays inside the two namespaces.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { LeaseConfig } from "../../src/network/dhcp/index.ts";
import { command, hostTier, root } from "../lib/host.ts";

const skip = hostTier("dhcp", [root, command("ip", "iproute2"), command("udhcpc", "udhcpc")]);

const FIXTURE = join(import.meta.dir, "fixtures", "dhcp-serve.ts");
const MAC = "02:00:00:00:00:01";
const TIMEOUT = 30_000;

/** Writes what udhcpc hands its script on "bound"/"renew" to $BVT_DHCP_OUT; configures eth0 when asked. */
const SCRIPT = `#!/bin/sh
case "$1" in bound|renew) ;; *) exit 0 ;; esac
if [ "$BVT_DHCP_CONFIGURE" = 1 ] && [ "$1" = bound ]; then
  ip addr add "$ip/$mask" dev "$interface"
fi
{
  echo "event=$1"
  for v in ip subnet mask router dns domain search mtu hostname lease staticroutes broadcast serverid; do
    eval "echo \\"$v=\\$$v\\""
  done
  echo "end"
} >> "$BVT_DHCP_OUT"
`;

type Env = Record<string, string>;

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

async function sh(argv: string[]): Promise<string> {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`Cannot run "${argv.join(" ")}": exit ${code}: "${err.trim()}"`);
  return out;
}

/** Accumulates a stream's text so a test can wait for a line and read it all later. */
function collect(stream: ReadableStream<Uint8Array>): { text(): string; done: Promise<void> } {
  let text = "";
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  })();
  return { text: () => text, done };
}

describe.skipIf(skip !== null)("per-VM DHCP server with udhcpc", () => {
  const namespaces: string[] = [];
  const processes: Subprocess[] = [];
  let dir = "";
  let script = "";
  let counter = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bvt-dhcp-"));
    script = join(dir, "udhcpc.script");
    writeFileSync(script, SCRIPT, { mode: 0o755 });
  });

  afterAll(async () => {
    for (const p of processes) {
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
      await p.exited;
    }
    for (const ns of namespaces) await sh(["ip", "netns", "del", ns]).catch(() => {});
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  /** Two namespaces joined by a veth; the server end enslaved to br0 with `bridgeAddress`. */
  async function topology(bridgeAddress: string): Promise<{ srv: string; cli: string }> {
    counter += 1;
    const srv = `bvt-dhcp-srv-${process.pid}-${counter}`;
    const cli = `bvt-dhcp-cli-${process.pid}-${counter}`;
    for (const ns of [srv, cli]) {
      namespaces.push(ns);
      await sh(["ip", "netns", "add", ns]);
    }
    await sh(["ip", "-n", srv, "link", "add", "br0", "type", "bridge"]);
    await sh(["ip", "-n", srv, "link", "add", "vm0", "type", "veth", "peer", "name", "eth0", "netns", cli]);
    await sh(["ip", "-n", srv, "link", "set", "vm0", "master", "br0"]);
    await sh(["ip", "-n", srv, "addr", "add", bridgeAddress, "dev", "br0"]);
    for (const dev of ["lo", "br0", "vm0"]) await sh(["ip", "-n", srv, "link", "set", dev, "up"]);
    await sh(["ip", "-n", cli, "link", "set", "eth0", "address", MAC]);
    for (const dev of ["lo", "eth0"]) await sh(["ip", "-n", cli, "link", "set", dev, "up"]);
    return { srv, cli };
  }

  async function startServer(ns: string, lease: LeaseConfig): Promise<{ stop(): Promise<string> }> {
    const p = Bun.spawn(["ip", "netns", "exec", ns, process.execPath, FIXTURE, JSON.stringify({ iface: "br0", lease })], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    processes.push(p);
    const out = collect(p.stdout);
    const err = collect(p.stderr);
    while (!out.text().split("\n").includes("ready")) {
      if (p.exitCode !== null) {
        await Promise.all([out.done, err.done]);
        throw new Error(`Cannot start the DHCP fixture: exit ${p.exitCode}: "${err.text().trim()}"`);
      }
      await Bun.sleep(20);
    }
    return {
      async stop() {
        p.kill("SIGTERM");
        const code = await p.exited;
        await Promise.all([out.done, err.done]);
        expect({ code, stderr: err.text() }).toEqual({ code: 0, stderr: "" });
        return out.text();
      },
    };
  }

  function udhcpc(ns: string, outFile: string, args: string[], env: Env = {}): Subprocess<"ignore", "pipe", "pipe"> {
    const p = Bun.spawn(["ip", "netns", "exec", ns, "udhcpc", "-i", "eth0", "-f", "-t", "3", "-T", "1", "-s", script, ...args], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, BVT_DHCP_OUT: outFile, ...env },
    });
    processes.push(p);
    return p;
  }

  /** udhcpc -q -n: one lease, then exit (non-zero when none came). */
  async function leaseOnce(ns: string, args: string[]): Promise<Env[]> {
    const outFile = join(dir, `${ns}.env`);
    const p = udhcpc(ns, outFile, ["-q", "-n", ...args]);
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect({ code, log: `${stdout}${stderr}` }).toMatchObject({ code: 0 });
    return events(outFile);
  }

  async function until(what: string, p: Subprocess, check: () => boolean): Promise<void> {
    while (!check()) {
      if (p.exitCode !== null) throw new Error(`Cannot see ${what}: udhcpc exited with ${p.exitCode}`);
      await Bun.sleep(20);
    }
  }

  const masquerade: LeaseConfig = {
    clientMac: MAC,
    address: "10.0.2.2",
    prefixLength: 24,
    router: "10.0.2.1",
    dns: ["10.96.0.10", "10.96.0.11"],
    searchDomains: ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"],
    hostname: "testvm",
    mtu: 1450,
    leaseSeconds: 86400,
    serverId: "10.0.2.1",
    classlessRoutes: [{ destination: "10.96.0.0", prefixLength: 12, gateway: "10.0.2.1" }],
  };

  test(
    "masquerade-like: bridge 10.0.2.1/24, every requested option reaches the client",
    async () => {
      const { srv, cli } = await topology("10.0.2.1/24");
      const server = await startServer(srv, masquerade);
      expect(await sh(["ip", "-n", srv, "neigh", "show", "dev", "br0"])).toContain(`10.0.2.2 lladdr ${MAC} PERMANENT`);
      // Connected route: no /32 added.
      expect(await sh(["ip", "-n", srv, "route", "show", "dev", "br0"])).not.toContain("10.0.2.2");

      const got = await leaseOnce(cli, ["-O", "mtu", "-O", "search", "-O", "staticroutes"]);
      expect(got).toEqual([
        {
          event: "bound",
          ip: "10.0.2.2",
          subnet: "255.255.255.0",
          mask: "24",
          router: "10.0.2.1",
          dns: "10.96.0.10 10.96.0.11",
          domain: "default.svc.cluster.local",
          search: "default.svc.cluster.local svc.cluster.local cluster.local",
          mtu: "1450",
          hostname: "testvm",
          lease: "86400",
          // The configured route, then the default route via the router (RFC 3442 clients ignore option 3).
          staticroutes: "10.96.0.0/12 10.0.2.1 0.0.0.0/0 10.0.2.1",
          broadcast: "10.0.2.255",
          serverid: "10.0.2.1",
        },
      ]);

      const log = await server.stop();
      expect(log).toContain(`dhcp DISCOVER -> OFFER mac=${MAC} address=10.0.2.2\n`);
      expect(log).toContain(`dhcp REQUEST -> ACK mac=${MAC} address=10.0.2.2\n`);
      expect(await sh(["ip", "-n", srv, "neigh", "show", "dev", "br0"])).not.toContain("PERMANENT");
    },
    TIMEOUT,
  );

  test(
    "renewal: the client configures the address, renews by unicast and gets the ACK; unrequested options stay out",
    async () => {
      const { srv, cli } = await topology("10.0.2.1/24");
      const server = await startServer(srv, masquerade);
      const outFile = join(dir, `${cli}.env`);
      // No -O: udhcpc's default request list has no mtu, search or staticroutes.
      const p = udhcpc(cli, outFile, [], { BVT_DHCP_CONFIGURE: "1" });
      await until("the bound event", p, () => events(outFile).length >= 1);
      p.kill("SIGUSR1"); // renew now
      await until("the renew event", p, () => events(outFile).length >= 2);
      p.kill("SIGTERM");
      await p.exited;

      const [bound, renew] = events(outFile);
      expect(bound).toMatchObject({ event: "bound", ip: "10.0.2.2", mtu: "", search: "", staticroutes: "", hostname: "testvm" });
      expect(renew).toMatchObject({ event: "renew", ip: "10.0.2.2", lease: "86400", serverid: "10.0.2.1" });
      const log = await server.stop();
      // DISCOVER, REQUEST (selecting), REQUEST (renewing, unicast from 10.0.2.2). udhcpc sends a
      // REQUEST again when the answer is late (a busy machine, CI): each is answered, so at least two ACKs.
      expect(log.match(/dhcp REQUEST -> ACK /g)?.length).toBeGreaterThanOrEqual(2);
      expect(log).not.toMatch(/-> NAK/);
    },
    TIMEOUT,
  );

  test(
    "bridge-binding-like: bridge has only 169.254.75.10/32, the lease is off-link; the /32 route delivers",
    async () => {
      const { srv, cli } = await topology("169.254.75.10/32");
      const lease: LeaseConfig = {
        clientMac: MAC,
        address: "10.244.1.7",
        prefixLength: 24,
        router: "10.244.1.1",
        dns: ["10.96.0.10"],
        searchDomains: ["ns1.svc.cluster.local", "svc.cluster.local", "cluster.local"],
        hostname: "bridged-vm",
        mtu: 1500,
        leaseSeconds: 3600,
        serverId: "169.254.75.10",
        classlessRoutes: [{ destination: "169.254.75.10", prefixLength: 32, gateway: "0.0.0.0" }],
      };
      const server = await startServer(srv, lease);
      expect(await sh(["ip", "-n", srv, "route", "show", "dev", "br0"])).toContain("10.244.1.7 scope link");
      expect(await sh(["ip", "-n", srv, "neigh", "show", "dev", "br0"])).toContain(`10.244.1.7 lladdr ${MAC} PERMANENT`);

      // -B: the client asks for broadcast replies; the L2 unicast still reaches its packet socket.
      const got = await leaseOnce(cli, ["-B", "-O", "mtu", "-O", "search", "-O", "staticroutes"]);
      expect(got).toEqual([
        {
          event: "bound",
          ip: "10.244.1.7",
          subnet: "255.255.255.0",
          mask: "24",
          router: "10.244.1.1",
          dns: "10.96.0.10",
          domain: "ns1.svc.cluster.local",
          search: "ns1.svc.cluster.local svc.cluster.local cluster.local",
          mtu: "1500",
          hostname: "bridged-vm",
          lease: "3600",
          staticroutes: "169.254.75.10/32 0.0.0.0 0.0.0.0/0 10.244.1.1",
          broadcast: "10.244.1.255",
          serverid: "169.254.75.10",
        },
      ]);

      const log = await server.stop();
      expect(log).toContain(`dhcp REQUEST -> ACK mac=${MAC} address=10.244.1.7\n`);
      expect(await sh(["ip", "-n", srv, "route", "show", "dev", "br0"])).not.toContain("10.244.1.7");
      expect(await sh(["ip", "-n", srv, "neigh", "show", "dev", "br0"])).not.toContain("10.244.1.7");
    },
    TIMEOUT,
  );
});
