/**
 * The gold standard: a real Debian bookworm guest (debootstrap, Debian's
 * kernel and cloud-init 22.4, scripts/guest/build-debian.sh) boots under
 * `bunvirt run` from its BIOS-bootable disk.img, used through an ephemeral
 * overlay on a persistentVolumeClaim directory (the cached image is never
 * written); cloud-init reads the NoCloud disk and installs the manifest's ssh
 * key for the user "debian"; an ssh login through the masquerade binding at
 * the pod IP works; SIGTERM powers the guest off by ACPI (systemd-logind)
 * within the grace period and leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseManifests } from "../../src/api/manifest.ts";
import { podNetnsPlan } from "../../src/local/pod-netns.ts";
import { repoRoot } from "../lib/bunvirt.ts";
import { command, hostTier, root } from "../lib/host.ts";
import { buildGuest, GUEST_BUILD_TIMEOUT_MS } from "./fixtures/guest/build.ts";
import { leftovers, startRun, type RunProcess } from "./fixtures/run/local-run.ts";

const skip = hostTier("debian-cloudinit", [
  root,
  command("debootstrap", "debootstrap"),
  command("syslinux", "syslinux"),
  command("mcopy", "mtools"),
  command("mkfs.vfat", "dosfstools"),
  command("ssh", "openssh-client"),
  command("ssh-keygen", "openssh-client"),
  command("qemu-system-x86_64", "qemu-system-x86"),
  command("libvirtd", "libvirt-daemon"),
  command("libvirt-dbus", "libvirt-dbus"),
  command("nft", "nftables"),
]);

const vmName = "debian";
const netns = podNetnsPlan(vmName).netns;
const gracePeriod = 120;

/** The example this test boots: a VMI booting the cached disk through an ephemeral overlay, the key in cloud-init user-data. */
const example = join(repoRoot, "examples/vmi-debian-cloudinit.yaml");
const exampleKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholderReplaceWithYourOwnPublicKey you@example";

/** The example's text with the test's own public key in place of the placeholder. */
function manifest(publicKey: string): string {
  const text = readFileSync(example, "utf8");
  if (!text.includes(`- ${exampleKey}\n`)) throw new Error(`Cannot find the placeholder key '${exampleKey}' in '${example}'`);
  const [doc] = parseManifests(text);
  const meta = doc?.value as { metadata?: { name?: unknown }; spec?: { terminationGracePeriodSeconds?: unknown } } | undefined;
  if (meta?.metadata?.name !== vmName || meta.spec?.terminationGracePeriodSeconds !== gracePeriod) {
    throw new Error(`Cannot use '${example}': this test expects name "${vmName}" and terminationGracePeriodSeconds ${gracePeriod}`);
  }
  return text.replace(`- ${exampleKey}\n`, `- ${publicKey}\n`);
}

async function sha256(path: string): Promise<string> {
  const p = Bun.spawn(["sha256sum", path], { stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  if (code !== 0) throw new Error(`Cannot checksum "${path}": sha256sum exited with ${code}`);
  return out.split(" ")[0]!;
}

interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One ssh command as `debian@host`, killed after `timeoutMs`. */
async function ssh(key: string, host: string, remote: string, timeoutMs: number): Promise<SshResult> {
  const p = Bun.spawn(
    [
      "ssh",
      "-o", "StrictHostKeyChecking=no",
      "-o", "UserKnownHostsFile=/dev/null",
      "-o", "ConnectTimeout=5",
      "-o", "BatchMode=yes",
      "-o", "LogLevel=ERROR",
      "-i", key,
      `debian@${host}`,
      remote,
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

describe.skipIf(skip !== null)("Debian guest with real cloud-init under bunvirt run (host tier)", () => {
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-debian-"));
  chmodSync(dir, 0o755);
  let guestDir = "";
  const stateDir = join(dir, "state");
  let run: RunProcess | undefined;

  beforeAll(async () => {
    // Cached in /var/cache/bunvirt/debian-<version>/; a cold build (debootstrap) takes a few minutes.
    guestDir = await buildGuest("build-debian.sh");
  }, GUEST_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    // After a failure: SIGTERM (forwarded to the run inside the namespace, which
    // stops the guest and its libvirt stack), then SIGKILL. A SIGKILLed outer
    // `bunvirt run` orphans the inner one, so its processes (all naming the
    // state dir) are killed here too.
    if (run !== undefined && run.proc.exitCode === null) {
      run.proc.kill("SIGTERM");
      await Promise.race([run.proc.exited, Bun.sleep((gracePeriod + 30) * 1000)]);
      run.proc.kill("SIGKILL");
      const pids = Bun.spawnSync(["pgrep", "-f", stateDir]).stdout.toString().split("\n").filter((p) => p !== "");
      for (const pid of pids) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // already gone
        }
      }
      await run.proc.exited;
    }
    Bun.spawnSync(["ip", "netns", "del", netns]);
    rmSync(dir, { recursive: true, force: true });
  }, (gracePeriod + 60) * 1000);

  test("cloud-init installs the manifest's ssh key; ssh at the pod IP works; SIGTERM powers it off", async () => {
    const key = join(dir, "id_ed25519");
    const keygen = Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bunvirt-debian-test", "-f", key]);
    expect(keygen.exitCode).toBe(0);
    const publicKey = readFileSync(`${key}.pub`, "utf8").trim();
    const file = join(dir, "debian-vmi.yaml");
    writeFileSync(file, manifest(publicKey));
    const consoleLog = join(dir, "console.log");

    const disk = join(guestDir, "disk.img");
    const before = statSync(disk);
    const t0 = Date.now();
    run = startRun([file, "--emulation", "--claim", `debian=${guestDir}:3Gi`, "--state-dir", stateDir], consoleLog);
    const podIp = (await run.waitForLog(/pod IP ([0-9.]+)/, 60_000))[1]!;
    const tPodIp = Date.now();

    // sshd starts after cloud-init's init stage wrote the key and the host keys.
    let login: SshResult | undefined;
    let attempts = 0;
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      attempts++;
      const r = await ssh(key, podIp, "echo ssh-ok", 15_000);
      if (r.code === 0 && r.stdout.includes("ssh-ok")) {
        login = r;
        break;
      }
      if (run.proc.exitCode !== null) break;
      await Bun.sleep(2_000);
    }
    const tSsh = Date.now();
    if (login === undefined) {
      throw new Error(`no ssh login at ${podIp} after ${attempts} attempts:\n${run.console().slice(-4000)}\n--- bunvirt:\n${run.log().slice(-3000)}`);
    }

    const r = await ssh(key, podIp, "cat /etc/os-release; cloud-init status --wait --long; hostname; ip -4 -o addr show dev eth0", 240_000);
    const tDone = Date.now();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("ID=debian");
    expect(r.stdout).toContain("VERSION_CODENAME=bookworm");
    expect(r.stdout).toMatch(/^status: done$/m);
    expect(r.stdout).toMatch(/^debian$/m); // meta-data local-hostname
    expect(r.stdout).toMatch(/inet 10\.0\.2\.2\/24/); // the masquerade binding's DHCP lease
    expect(run.console()).toMatch(/Cloud-init v\. [\d.]+ finished/);

    const tTerm = Date.now();
    run.proc.kill("SIGTERM");
    const code = await run.proc.exited;
    const tExit = Date.now();
    expect(code).toBe(0); // the guest powered off (ACPI power button -> systemd-logind)
    expect(run.log()).toContain("the guest powered off");
    expect(tExit - tTerm).toBeLessThan(gracePeriod * 1000);
    expect(leftovers(stateDir, netns)).toEqual([]);
    expect(Bun.spawnSync(["pgrep", "-af", `guest=default_${vmName}`]).stdout.toString().trim()).toBe("");

    // The ephemeral overlay took every write: the cached disk is as built.
    const sums = readFileSync(join(guestDir, "SHA256SUMS"), "utf8");
    const built = sums.split("\n").find((l) => l.endsWith(" disk.img"))?.split(" ")[0];
    expect(built).toBeDefined();
    const after = statSync(disk);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
    expect(await sha256(disk)).toBe(built!);

    const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `debian-cloudinit: start->pod IP ${s(tPodIp - t0)}, start->ssh login ${s(tSsh - t0)} (${attempts} attempts), ` +
        `start->cloud-init done ${s(tDone - t0)}, SIGTERM->exit ${s(tExit - tTerm)}`,
    );
  }, 480_000);
});
