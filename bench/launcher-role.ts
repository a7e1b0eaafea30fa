/**
 * The launcher role as its pod runs it (the host plays the pod and its
 * container: tests/host/fixtures/launcher-pod/launcher-pod.ts, with the
 * pod's capability list), the test guest's disk a claim, under TCG:
 *   - start: from the launcher's spawn to its command socket answering, then
 *     what a handler does: `sync` at once (the launcher prepares storage and
 *     network while its libvirt stack starts), to the domain running and to
 *     the guest's first serial line; next to qemu-system-x86_64 started
 *     directly on the same disk (goal: launcher <= 1.15x, fixed cost <= 0.3 s);
 *   - stop, one way per run: `shutdown` as the handler asks it when a VMI is
 *     deleted (the guest powers off on the ACPI button at once), SIGTERM as
 *     the kubelet sends it, `kill`: QEMU's exit after the request, and the
 *     launcher's exit after QEMU's (goal <= 0.5 s; kill: QEMU gone <= 0.3 s).
 *
 *   flock /tmp/bunvirt-host.lock bun bench/launcher-role.ts   (root; builds the guest with scripts/guest/build.sh)
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SyncRequest } from "../src/launcher/command/schema.ts";
import { launcherCapabilities, launcherPaths } from "../src/roles/controller/launcher-pod.ts";
import { repoRoot } from "../tests/lib/bunvirt.ts";
import { buildGuest } from "../tests/host/fixtures/guest/build.ts";
import { startPodLauncher } from "../tests/host/fixtures/launcher-pod/launcher-pod.ts";

const bunvirt = join(repoRoot, "compiled/bunvirt");
const firstLine = /bunvirt-guest: booted/;
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const vmi: SyncRequest["vmi"] = {
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name: "benchvm", namespace: "default", uid: "22222222-3333-4444-5555-666666666666" },
  spec: {
    domain: {
      devices: { disks: [{ name: "root", disk: { bus: "virtio" } }], interfaces: [{ name: "default", masquerade: {} }] },
      memory: { guest: "128Mi" },
    },
    networks: [{ name: "default", pod: {} }],
    volumes: [{ name: "root", persistentVolumeClaim: { claimName: "guestdisk" } }],
    terminationGracePeriodSeconds: 30,
  },
};

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null> | T | null): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`);
    await Bun.sleep(5);
  }
}

/** The bench VM's QEMU (its domain is default_benchvm; one runs at a time). */
function qemuPid(): number | null {
  const pid = Number(Bun.spawnSync(["pgrep", "-f", "qemu-system-x86_64 -name guest=default_benchvm"]).stdout.toString().trim().split("\n")[0]);
  return pid > 0 ? pid : null;
}

const gone = (pid: number): boolean => !existsSync(`/proc/${pid}`) || /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));

const guest = await buildGuest("build.sh");
const claimsMade = !existsSync(launcherPaths.claims);
mkdirSync(launcherPaths.claims, { recursive: true });

const starts: { socket: number; running: number; line: number }[] = [];
const stops: string[] = [];
const ways = ["shutdown", "SIGTERM", "kill"] as const;
try {
  for (const way of ways) {
    const pod = startPodLauncher({ bunvirt, caps: launcherCapabilities, tag: `bvbench-${way.slice(0, 4).toLowerCase()}`, guestDisk: join(guest, "disk.img") });
    try {
      const t0 = performance.now();
      await until("the command socket", 60_000, () => pod.client.status().then(() => true, () => null));
      const socket = performance.now() - t0;
      // A handler syncs as soon as the launcher answers "absent".
      const reply = await pod.client.sync(vmi);
      // The sync answers once the domain has started.
      const running = performance.now() - t0;
      if (reply.state !== "running") throw new Error(`sync: ${reply.state}: ${reply.reason}`);
      await until("the guest's first serial line", 120_000, () => (firstLine.test(pod.consoleText()) ? true : null));
      starts.push({ socket, running, line: performance.now() - t0 });
      // The guest's acpid starts right after its first line.
      await Bun.sleep(2000);
      const qemu = qemuPid();
      if (qemu === null) throw new Error("no QEMU");
      const asked = performance.now();
      const request = way === "shutdown" ? pod.client.shutdown(30) : way === "kill" ? pod.client.kill() : (pod.proc.kill("SIGTERM"), Promise.resolve(null));
      const qemuGone = await until("QEMU's exit", 60_000, () => (gone(qemu) ? performance.now() : null));
      await request.catch(() => null);
      const answered = performance.now();
      await pod.proc.exited;
      const exited = performance.now();
      stops.push(`${way.padEnd(8)}: QEMU gone ${s(qemuGone - asked)} after the request${way === "kill" ? " (goal <= 0.3 s)" : " (the guest's ACPI power-off)"}; ${way === "SIGTERM" ? "" : `answered ${s(answered - asked)}; `}the launcher exited ${s(exited - qemuGone)} after QEMU (goal <= 0.5 s)`);
    } finally {
      pod.cleanup();
    }
  }
} finally {
  if (claimsMade) rmdirSync(launcherPaths.claims);
}

// The peer: the same disk under qemu-system-x86_64 alone (a snapshot, so the disk stays as it was).
const qemuTimes: number[] = [];
const dir = mkdtempSync(join(tmpdir(), "bunvirt-bench-launcher-"));
try {
  for (let i = 0; i < 3; i++) {
    const out = join(dir, `qemu${i}.log`);
    const t0 = performance.now();
    const q = Bun.spawn(["qemu-system-x86_64", "-machine", "q35,accel=tcg", "-cpu", "max", "-m", "128", "-display", "none", "-nodefaults", "-no-user-config",
      "-drive", `file=${join(guest, "disk.img")},if=virtio,format=raw,snapshot=on`, "-serial", `file:${out}`], { stdout: "ignore", stderr: "ignore" });
    await until("QEMU's first serial line", 120_000, () => (existsSync(out) && firstLine.test(readFileSync(out, "utf8")) ? true : null));
    qemuTimes.push(performance.now() - t0);
    q.kill("SIGKILL");
    await q.exited;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const m = (k: keyof (typeof starts)[number]): number => median(starts.map((x) => x[k]));
console.log(`the launcher role (pod layout, the pod's capabilities, TCG), median of ${starts.length}; a handler's sync as soon as the socket answers:`);
console.log(`  spawn -> command socket answers          ${s(m("socket"))}`);
console.log(`  spawn -> sync answered, domain running   ${s(m("running"))}   (sync itself: ${s(m("running") - m("socket"))})`);
console.log(`  spawn -> the guest's first serial line   ${s(m("line"))}   runs: ${starts.map((x) => s(x.line)).join(", ")}`);
console.log(`  sync  -> the guest's first serial line   ${s(m("line") - m("socket"))}`);
console.log(`  qemu-system-x86_64 directly, same disk   ${s(median(qemuTimes))}   ratio (sync -> line) / qemu: ${((m("line") - m("socket")) / median(qemuTimes)).toFixed(2)}x (goal <= 1.15x); fixed cost ${s(m("line") - m("socket") - median(qemuTimes))} (goal <= 0.3 s)`);
console.log("stopping (one way per run):");
for (const line of stops) console.log(`  ${line}`);
