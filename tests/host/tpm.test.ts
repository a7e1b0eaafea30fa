/**
 * devices.tpm on real parts (`bunvirt run`, libvirt, QEMU, swtpm from
 * Debian 12): the test guest boots with `tpm: {}` and its kernel's tpm_tis
 * driver finds the TPM (/init prints "bunvirt-guest: tpm /dev/tpm0 version 2");
 * QEMU's command line has the emulator backend and the TIS device; libvirtd
 * ran swtpm as QEMU's account with its state, socket and log in the stack's
 * directories, and its local CA there too, not in the host's
 * /var/lib/swtpm-localca; after the stop no swtpm is left. The same guest
 * without the field sees no TPM.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { command, hostTier, root } from "../lib/host.ts";
import { buildGuest } from "./fixtures/guest/build.ts";
import { buildOciImage, pushWithSkopeo } from "./fixtures/registry/images.ts";
import { startRegistry, type RunningRegistry } from "./fixtures/registry/registry.ts";
import { leftovers, startRun } from "./fixtures/run/local-run.ts";

const skip = hostTier("tpm", [
  root,
  command("libvirtd", "libvirt-daemon"),
  command("qemu-system-x86_64", "qemu-system-x86"),
  command("swtpm", "swtpm"),
  command("swtpm_setup", "swtpm-tools"),
  command("docker-registry", "docker-registry"),
  command("umoci", "umoci"),
  command("skopeo", "skopeo"),
]);

/** Pids of every process named `name`, zombies included (pgrep reads /proc/PID/stat). */
function allPids(name: string): number[] {
  return Bun.spawnSync(["pgrep", "-x", name]).stdout.toString().split("\n").filter((l) => l !== "").map(Number);
}

/** Pids of processes running the program `name` whose command line contains `text`. */
function pidsOf(name: string, text: string): number[] {
  const out = Bun.spawnSync(["pgrep", "-a", "-f", text]).stdout.toString();
  return out.split("\n").filter((l) => l.split(" ")[1]?.endsWith(`/${name}`) === true || l.split(" ")[1] === name).map((l) => Number(l.split(" ")[0]));
}

function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
}

/** What a host directory holds ("absent" when it does not exist). */
function listing(dir: string): string[] | "absent" {
  return existsSync(dir) ? readdirSync(dir).sort() : "absent";
}

/** Files below `dir` whose path ends with `suffix`. */
function findFiles(dir: string, suffix: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => p.endsWith(suffix)).map((p) => join(dir, p));
}

describe.skipIf(skip !== null)("devices.tpm under bunvirt run", () => {
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-tpm-"));
  chmodSync(dir, 0o755);
  let registry: RunningRegistry;

  beforeAll(async () => {
    const guest = await buildGuest("build.sh");
    registry = await startRegistry();
    const disk = join(dir, "oci-disk");
    await buildOciImage(disk, "1", [{ add: { "/disk/disk.qcow2": join(guest, "disk.qcow2") } }]);
    await pushWithSkopeo(disk, "1", `${registry.host}/bunvirt/disk:1`);
  }, 30 * 60_000);
  afterAll(async () => {
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const manifest = (name: string, devices: string): string => `apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata:
  name: ${name}
spec:
  domain:
    resources:
      requests:
        memory: 128M
    devices:
${devices}      autoattachPodInterface: false
      disks:
      - name: root
        disk: {}
  volumes:
  - name: root
    containerDisk:
      image: bunvirt/disk:1
`;

  function start(name: string, yaml: string): { run: ReturnType<typeof startRun>; stateDir: string } {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, yaml);
    const stateDir = join(dir, `state-${name}`);
    const run = startRun(
      [file, "--emulation", "--network", "none", "--registry", registry.host, "--insecure-registry", registry.host, "--state-dir", stateDir],
      join(dir, `${name}-console.log`),
    );
    return { run, stateDir };
  }

  test("tpm: {} — the guest sees /dev/tpm0 (TPM 2.0), swtpm runs inside the stack's directories and is gone after the stop", async () => {
    const hostCa = listing("/var/lib/swtpm-localca");
    const hostLog = listing("/var/log/swtpm");
    const swtpmsBefore = allPids("swtpm");
    const { run, stateDir } = start("tpm-guest", manifest("tpm-guest", "      tpm: {}\n"));
    try {
      await run.waitForConsole(/bunvirt-guest: tpm \/dev\/tpm0 version 2/, 300_000);
      expect(run.console()).not.toContain("bunvirt-guest: no tpm");

      const [qemu, ...moreQemu] = pidsOf("qemu-system-x86_64", "guest=default_tpm-guest");
      expect(moreQemu).toEqual([]);
      const qemuArgs = cmdline(qemu!);
      expect(qemuArgs).toMatch(/-tpmdev emulator,id=tpm-tpm0,chardev=chrtpm/);
      expect(qemuArgs).toContain(`"driver":"tpm-tis","tpmdev":"tpm-tpm0"`);

      // swtpm, started by libvirtd for this domain, as QEMU's account (not root, not tss).
      const swtpms = pidsOf("swtpm", "default_tpm-guest-swtpm.sock");
      expect(swtpms).toHaveLength(1);
      const swtpm = swtpms[0]!;
      const args = cmdline(swtpm);
      expect(args).toContain("--tpm2");
      expect(args).toMatch(/--tpmstate dir=\/var\/lib\/libvirt\/swtpm\/[0-9a-f-]+\/tpm2/);
      expect(args).toContain("--log file=/var/log/swtpm/libvirt/qemu/default_tpm-guest-swtpm.log");
      expect(statSync(`/proc/${swtpm}`).uid).toBe(statSync(`/proc/${qemu}`).uid);
      expect(statSync(`/proc/${swtpm}`).uid).not.toBe(0);

      // What it wrote is in the run's state directory: its log, the TPM's state, the local CA's keys.
      const [log] = findFiles(stateDir, "var-log/swtpm/libvirt/qemu/default_tpm-guest-swtpm.log");
      expect(readFileSync(log!, "utf8")).toContain("Successfully authored TPM state.");
      expect(findFiles(stateDir, "/tpm2/tpm2-00.permall")).toHaveLength(1);
      expect(findFiles(stateDir, "lib/swtpm-localca/issuercert.pem")).toHaveLength(1);
      // ... and nothing in the host's own swtpm directories.
      expect(listing("/var/lib/swtpm-localca")).toEqual(hostCa);
      expect(listing("/var/log/swtpm")).toEqual(hostLog);

      run.proc.kill("SIGTERM");
      expect(await run.proc.exited).toBe(0);
      // No swtpm left: not running, not a zombie (its pid is gone from /proc).
      expect(existsSync(`/proc/${swtpm}`)).toBe(false);
      expect(allPids("swtpm").filter((p) => !swtpmsBefore.includes(p))).toEqual([]);
      expect(leftovers(stateDir, "none")).toEqual([]);
      expect(listing("/var/lib/swtpm-localca")).toEqual(hostCa);
      expect(listing("/var/log/swtpm")).toEqual(hostLog);
    } finally {
      run.proc.kill("SIGKILL");
    }
  }, 600_000);

  test("without devices.tpm the same guest sees no TPM and no swtpm runs", async () => {
    const { run, stateDir } = start("no-tpm", manifest("no-tpm", ""));
    try {
      await run.waitForConsole(/bunvirt-guest: no tpm/, 300_000);
      expect(cmdline(pidsOf("qemu-system-x86_64", "guest=default_no-tpm")[0]!)).not.toContain("-tpmdev");
      expect(pidsOf("swtpm", "default_no-tpm")).toEqual([]);
      run.proc.kill("SIGTERM");
      expect(await run.proc.exited).toBe(0);
      expect(leftovers(stateDir, "none")).toEqual([]);
    } finally {
      run.proc.kill("SIGKILL");
    }
  }, 600_000);
});
