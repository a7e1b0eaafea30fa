/**
 * The launcher as its pod runs it, with the capabilities checked one by one:
 * `compiled/bunvirt --role launcher --libvirt-layout pod --emulation` in a
 * network namespace and a mount namespace that play the pod and its
 * container, `setpriv` keeping only the given capabilities with
 * no_new_privs, as the pod's securityContext does
 * (tests/host/fixtures/launcher-pod/launcher-pod.ts). A VMI with a
 * masquerade interface is synced over the command socket.
 *
 * - With the whole list the test guest boots (its disk a claim, a copy of
 *   scripts/guest/build.sh's disk.img at the pod's claim path) and its kernel
 *   finds the TPM swtpm gives it (the /init's tpm line in the launcher's
 *   console log), QEMU as libvirt-qemu without
 *   capabilities, and the launcher's CapEff is exactly the list.
 * - Without any one of them the VM does not run, or `kill` cannot stop it
 *   (the test prints what broke).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import type { SyncRequest } from "../../src/launcher/command/schema.ts";
import { lookupUser } from "../../src/launcher/qemu-user.ts";
import { launcherCapabilities, launcherPaths } from "../../src/roles/controller/launcher-pod.ts";
import { startPodLauncher, type PodLauncher } from "./fixtures/launcher-pod/launcher-pod.ts";
import { buildGuest } from "./fixtures/guest/build.ts";
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

/**
 * The test guest booting from a claim (KubeVirt's disk.img in the claim's
 * directory), with a TPM (swtpm under the pod's read-only root and
 * capabilities): the run with the whole list.
 */
const guestVmi: SyncRequest["vmi"] = {
  ...vmi,
  metadata: { ...vmi.metadata, name: "capguest" },
  spec: {
    ...vmi.spec,
    domain: { ...vmi.spec.domain, devices: { ...vmi.spec.domain.devices, disks: [{ name: "root", disk: { bus: "virtio" } }], tpm: {} } },
    volumes: [{ name: "root", persistentVolumeClaim: { claimName: "guestdisk" } }],
  },
};
/** The guest's /init prints it after "booted" once its kernel found the TPM. */
const guestBooted = /bunvirt-guest: tpm \/dev\/tpm0 version 2/;

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

const pods: PodLauncher[] = [];
afterAll(() => {
  for (const p of pods) p.cleanup();
});

/** Runs the launcher with `caps`; returns the domain's status (or the last error), the launcher's and QEMU's process entries, and the launcher's log. */
async function runWith(caps: readonly string[], tag: string, guest?: string): Promise<{ state: string; reason: string; launcher?: Proc; qemu?: Proc; killError: string | null; log: string; console: string }> {
  const pod = startPodLauncher({ bunvirt, caps, tag: `bvcaps-${tag}`, ...(guest !== undefined ? { guestDisk: join(guest, "disk.img") } : {}) });
  pods.push(pod);
  const { proc, client, state, sockets, consoleText } = pod;
  let mountNs: string | null = null;
  let last = { state: "absent", reason: "no answer" };
  // A missing capability that keeps the stack from ever getting ready shows as no domain after 60 s.
  const deadline = Date.now() + (guest !== undefined ? 120_000 : 60_000);
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
          last = await client.sync(guest !== undefined ? guestVmi : vmi);
        }
      } else last = await client.status();
      if (last.state === "running" && (guest === undefined || guestBooted.test(consoleText()))) break;
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
      return readFileSync(`/proc/${p.pid}/cmdline`, "utf8").includes("guest=default_cap");
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
  const log = await pod.log();
  return { ...last, killError, ...(launcher !== undefined ? { launcher } : {}), ...(qemu !== undefined ? { qemu } : {}), log, console: consoleText() };
}

describe.skipIf(skip !== null)("the launcher with the pod's capabilities", () => {
  test("the whole list: the test guest boots and sees its TPM, QEMU as libvirt-qemu with no capabilities, the launcher's CapEff is the list", async () => {
    const guest = await buildGuest("build.sh");
    // The pod's claim path is bound over in the test's mount namespace; its mount point is bunvirt's own directory.
    const made = !existsSync(launcherPaths.claims);
    mkdirSync(launcherPaths.claims, { recursive: true });
    let r;
    try {
      r = await runWith(launcherCapabilities, "all", guest);
    } finally {
      if (made) rmdirSync(launcherPaths.claims);
    }
    if (r.state !== "running" || !guestBooted.test(r.console)) console.log(`${r.log.slice(-4000)}\n--- console:\n${r.console.slice(-2000)}`);
    expect(r.state).toBe("running");
    expect(r.console).toMatch(guestBooted);
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
