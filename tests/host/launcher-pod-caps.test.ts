/**
 * The launcher as its pod runs it, with the capabilities checked one by one:
 * `compiled/bunvirt --role launcher --libvirt-layout pod --emulation` in a
 * network namespace of the test's (an `eth0` with an address, IPv4
 * forwarding on as the pod sysctl sets it) and a private mount namespace
 * that plays the container: the state directory's libvirt/{run,lib,cache,
 * log,etc} bound at the system paths (the pod's subPath mounts), the root
 * read-only, /tmp a tmpfs; then `setpriv` keeps only the launcher's
 * capability list (launcherCapabilities) with no_new_privs, as the pod's
 * securityContext does. A VMI with a masquerade interface and an emptyDisk
 * is synced over the command socket.
 *
 * - With the whole list the domain runs, QEMU as libvirt-qemu without
 *   capabilities, and the launcher's CapEff is exactly the list.
 * - Without any one of them the VM does not run, or `kill` cannot stop it
 *   (the test prints what broke).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { LauncherClient } from "../../src/launcher/command/command-client.ts";
import type { SyncRequest } from "../../src/launcher/command/schema.ts";
import { lookupUser } from "../../src/launcher/qemu-user.ts";
import { launcherCapabilities, libvirtMounts } from "../../src/roles/controller/launcher-pod.ts";
import { repoRoot } from "../lib/bunvirt.ts";
import { capabilityMask } from "../lib/capabilities.ts";
import { built, command, hostTier, root } from "../lib/host.ts";

const bunvirt = join(repoRoot, "compiled/bunvirt");
const skip = hostTier("launcher pod capabilities", [root, built(bunvirt, "bun run build"), command("setpriv", "util-linux"), command("unshare", "util-linux"), command("ip", "iproute2"), command("libvirtd", "libvirt-daemon")]);

const vmi: SyncRequest["vmi"] = {
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name: "capvm", namespace: "default", uid: "11111111-2222-3333-4444-555555555555" },
  spec: {
    domain: {
      devices: { disks: [{ name: "scratch", disk: { bus: "virtio" } }], interfaces: [{ name: "default", masquerade: {} }] },
      memory: { guest: "64Mi" },
    },
    networks: [{ name: "default", pod: {} }],
    volumes: [{ name: "scratch", emptyDisk: { capacity: "16Mi" } }],
  },
};

interface Proc { pid: number; name: string; uid: number; capEff: bigint }

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/status`, "utf8");
      const field = (k: string): string => new RegExp(`^${k}:\\s+(\\S+)`, "m").exec(s)?.[1] ?? "";
      out.push({ pid: Number(d), name: field("Name"), uid: Number(field("Uid")), capEff: BigInt(`0x${field("CapEff") || "0"}`) });
    } catch {
      // gone
    }
  }
  return out;
}

const made: { netns: string[]; dirs: string[]; pids: number[] } = { netns: [], dirs: [], pids: [] };
afterAll(() => {
  for (const pid of made.pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const ns of made.netns) Bun.spawnSync(["ip", "netns", "del", ns]);
  for (const d of made.dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the launcher with `caps`; returns the domain's status (or the last error), the launcher's and QEMU's process entries, and the launcher's log. */
async function runWith(caps: readonly string[], tag: string): Promise<{ state: string; reason: string; launcher?: Proc; qemu?: Proc; killError: string | null; log: string }> {
  const ns = `bvcaps-${tag}`.slice(0, 15);
  Bun.spawnSync(["ip", "netns", "del", ns]);
  const must = (argv: string[]): void => {
    const r = Bun.spawnSync(argv, { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`Cannot run "${argv.join(" ")}": ${r.stderr.toString()}`);
  };
  must(["ip", "netns", "add", ns]);
  made.netns.push(ns);
  const inNs = (...argv: string[]): void => must(["ip", "netns", "exec", ns, ...argv]);
  inNs("ip", "link", "set", "lo", "up");
  inNs("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0");
  inNs("ip", "addr", "add", "10.98.0.2/24", "dev", "eth0");
  inNs("ip", "link", "set", "eth0", "up");
  inNs("ip", "link", "set", "peer0", "up");
  inNs("ip", "route", "add", "default", "via", "10.98.0.1");
  inNs("sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward");

  // Not under /tmp: the container's /tmp is a tmpfs of its own.
  const volume = mkdtempSync("/var/tmp/bvcaps-");
  made.dirs.push(volume);
  chmodSync(volume, 0o777); // an emptyDir's mode
  const state = join(volume, "launcher");
  const sockets = join(volume, "sockets");
  mkdirSync(sockets);
  // The pod's subPath mounts: created by the kubelet, bound where libvirt looks.
  const binds = libvirtMounts().map((m) => ({ source: join(state, m.subPath!), target: m.mountPath }));
  for (const b of binds) mkdirSync(b.source, { recursive: true });
  const script = [
    "set -e",
    `mount --bind ${volume} ${volume}`,
    ...binds.map((b) => `mount --bind ${b.source} ${b.target}`),
    // The executable where the image has it, outside /tmp: a clone under /tmp would vanish under the tmpfs.
    `touch ${volume}/bunvirt; mount --bind ${bunvirt} ${volume}/bunvirt`,
    "mount -t tmpfs tmpfs /tmp",
    // A container's /dev: a few nodes and the tun device, no /dev/kvm (emulation: the pod does not request it).
    `d=${volume}/dev; mkdir $d; mount -t tmpfs -o mode=755 tmpfs $d`,
    "for n in null zero full random urandom tty; do touch $d/$n; mount --bind /dev/$n $d/$n; done",
    "mkdir $d/net $d/pts $d/shm; touch $d/net/tun; mount --bind /dev/net/tun $d/net/tun; mount --bind /dev/pts $d/pts; ln -s pts/ptmx $d/ptmx; mount -t tmpfs tmpfs $d/shm",
    "mount --move $d /dev",
    "mount -o remount,bind,ro /",
    `exec setpriv --bounding-set -all${caps.map((c) => `,+${c.toLowerCase()}`).join("")} --inh-caps -all --no-new-privs -- ${volume}/bunvirt --role launcher --libvirt-layout pod --emulation --state-dir ${state} --command-socket ${sockets}/launcher.sock --health-addr 127.0.0.1:8187`,
  ].join("\n");
  const logFile = join(volume, "..", `bvcaps-${tag}.log`);
  made.dirs.push(logFile);
  const proc = Bun.spawn(["ip", "netns", "exec", ns, "unshare", "--mount", "--propagation", "private", "sh", "-c", script], {
    stdout: Bun.file(logFile),
    stderr: "pipe",
  });
  made.pids.push(proc.pid);
  let mountNs: string | null = null;
  const client = new LauncherClient(join(sockets, "launcher.sock"));
  let last = { state: "absent", reason: "no answer" };
  const deadline = Date.now() + 60_000;
  let synced = false;
  while (Date.now() < deadline && proc.exitCode === null) {
    mountNs ??= (() => {
      try {
        const ns = readlinkSync(`/proc/${proc.pid}/ns/mnt`);
        return readlinkSync(`/proc/${proc.pid}/exe`).endsWith("bunvirt") ? ns : null;
      } catch {
        return null;
      }
    })();
    try {
      if (!synced) {
        const s = await client.status();
        if (s.ready) {
          synced = true;
          last = await client.sync(vmi);
        }
      } else last = await client.status();
      if (last.state === "running") break;
    } catch (error) {
      last = { state: "error", reason: error instanceof Error ? error.message : String(error) };
      if (synced) break;
    }
    await Bun.sleep(500);
  }
  const all = processes();
  const launcher = all.find((p) => p.name === "bunvirt" && readFileSync(`/proc/${p.pid}/cmdline`, "utf8").includes(sockets));
  const qemuUid = lookupUser(readFileSync("/etc/passwd", "utf8"), "libvirt-qemu")?.uid;
  const qemu = all.find((p) => p.name.startsWith("qemu-system") && (() => {
    try {
      return readFileSync(`/proc/${p.pid}/cmdline`, "utf8").includes(state);
    } catch {
      return false;
    }
  })());
  expect(qemuUid).toBeDefined();
  // Stopping is part of running a VM: `kill` destroys the domain (libvirtd signals QEMU).
  let killError: string | null = null;
  if (last.state === "running") {
    killError = await client.kill().then(() => null, (e: unknown) => (e instanceof Error ? e.message : String(e)));
  }
  proc.kill("SIGTERM");
  const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(30_000).then(() => false)]);
  if (!exited) proc.kill("SIGKILL");
  await proc.exited;
  // No namespace holder in the pod layout: what the launcher left (a container's teardown would kill it) goes here.
  const left = mountNs === null ? [] : all.map((p) => p.pid).filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/mnt`) === mountNs;
    } catch {
      return false;
    }
  });
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  const log = `${readFileSync(logFile, "utf8")}\n${await new Response(proc.stderr).text()}`;
  return { ...last, killError, ...(launcher !== undefined ? { launcher } : {}), ...(qemu !== undefined ? { qemu } : {}), log };
}

describe.skipIf(skip !== null)("the launcher with the pod's capabilities", () => {
  test("the whole list: the VM runs, QEMU as libvirt-qemu with no capabilities, the launcher's CapEff is the list", async () => {
    const r = await runWith(launcherCapabilities, "all");
    if (r.state !== "running") console.log(r.log.slice(-4000));
    expect(r.state).toBe("running");
    expect(r.launcher?.capEff).toBe(capabilityMask(launcherCapabilities));
    expect(r.qemu?.uid).toBe(lookupUser(readFileSync("/etc/passwd", "utf8"), "libvirt-qemu")!.uid);
    expect(r.qemu?.capEff).toBe(0n);
    expect(r.killError).toBeNull();
    console.log(`launcher pod capabilities: CapEff ${r.launcher!.capEff.toString(16)}, QEMU uid ${r.qemu!.uid}`);
  }, 180_000);

  for (const cap of launcherCapabilities) {
    test(`without ${cap} the VM does not run, or cannot be stopped`, async () => {
      const r = await runWith(launcherCapabilities.filter((c) => c !== cap), cap.toLowerCase().replace(/_/g, ""));
      const broke = r.state !== "running" ? `${r.state}: ${r.reason}` : r.killError !== null ? `ran, but kill failed: ${r.killError}` : "nothing";
      const lastError = r.log.split("\n").filter((l) => /error|cannot|denied|not permitted/i.test(l)).slice(0, 2).join(" | ");
      console.log(`launcher pod capabilities: without ${cap}: ${broke.slice(0, 300)}${lastError ? ` [log: ${lastError.slice(0, 300)}]` : ""}`);
      expect(broke).not.toBe("nothing");
    }, 180_000);
  }
});
