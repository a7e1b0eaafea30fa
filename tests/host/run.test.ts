/**
 * The local debug run on real parts: the v1alpha1 example (examples/), its
 * registryDisk pulled from a real registry on 127.0.0.1, boots under `bunvirt
 * run` with a private libvirtd (TCG); the guest reads the cloud-init disk and
 * prints the ssh key it found; it is reachable at the pod IP through
 * masquerade; SIGTERM shuts it down within the grace period and leaves nothing
 * behind; a killed libvirtd is restarted under the running VM. The v1 VM and
 * the VMI with declared ports from examples/ boot the same way, and so does a
 * VM sized by a cluster instancetype and preference given in another file,
 * and a VM with dedicated CPUs (its vCPU threads pinned).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LauncherClient } from "../../src/launcher/command/command-client.ts";
import { podNetnsPlan } from "../../src/local/pod-netns.ts";
import { repoRoot } from "../lib/bunvirt.ts";
import { command, hostTier, root } from "../lib/host.ts";
import { firstLine, guestRegistry, leftovers, startRun, type GuestRegistry } from "./fixtures/run/local-run.ts";

const skip = hostTier("local-run", [
  root,
  command("libvirtd", "libvirt-daemon"),
  command("libvirt-dbus", "libvirt-dbus"),
  command("qemu-system-x86_64", "qemu-system-x86"),
  command("docker-registry", "docker-registry"),
  command("skopeo", "skopeo"),
  command("nft", "nftables"),
]);

const seed = join(repoRoot, "examples/vm-v1alpha1.yaml");
const sshKey = "ssh-rsa AAAAB3NzaK8L93bWxnyp test@test.com";
const netns = podNetnsPlan("myvm").netns;

describe.skipIf(skip !== null)("bunvirt run (host tier)", () => {
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-run-"));
  chmodSync(dir, 0o755);
  let registry: GuestRegistry;
  const args = (stateDir: string): string[] => [seed, "--emulation", "--registry", registry.address, "--insecure-registry", registry.address, "--state-dir", stateDir];

  beforeAll(async () => {
    registry = await guestRegistry(join(dir, "registry"));
  }, 300_000);
  afterAll(async () => {
    await registry?.stop();
    Bun.spawnSync(["ip", "netns", "del", netns]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("the seed manifest boots, prints its ssh key, answers at the pod IP, and powers off on SIGTERM", async () => {
    const stateDir = join(dir, "boot");
    const run = startRun(args(stateDir), join(dir, "boot-console.log"));
    try {
      const podIp = (await run.waitForLog(/pod IP ([0-9.]+)/, 60_000))[1]!;
      await run.waitForConsole(/bunvirt-guest: cidata user-data \d+/, 120_000);
      await run.waitForConsole(new RegExp(`bunvirt-guest: ssh-key: ${sshKey}`), 10_000);
      await run.waitForConsole(/bunvirt-guest: ready/, 60_000);
      expect(run.console()).toMatch(/bunvirt-guest: lease 10\.0\.2\.2\/24 router 10\.0\.2\.1/);
      // meta-data's local-hostname is the VM's name.
      expect(run.console()).toContain("bunvirt-guest: hostname myvm");
      expect(await firstLine(podIp, 22)).toBe("bunvirt-guest myvm");
      run.proc.kill("SIGTERM");
      expect(await run.proc.exited).toBe(0); // the guest powered off (ACPI)
      expect(run.log()).toContain("the guest powered off");
      expect(leftovers(stateDir, netns)).toEqual([]);
      // The node cache's image under the VM's overlay kept its owner (libvirt was told not to relabel it).
      const digest = run.log().match(/digest=sha256:([0-9a-f]{64})/)![1]!;
      const cached = readdirSync("/var/cache/bunvirt/container-disks/sha256").filter((d) => d.startsWith(digest));
      expect(cached.length).toBeGreaterThan(0);
      for (const d of cached) {
        for (const f of readdirSync(join("/var/cache/bunvirt/container-disks/sha256", d))) {
          expect(statSync(join("/var/cache/bunvirt/container-disks/sha256", d, f)).uid).toBe(0);
        }
      }
    } finally {
      run.proc.kill("SIGKILL");
    }
  }, 300_000);

  test("SIGTERM during boot: gone within the grace period, nothing left", async () => {
    const stateDir = join(dir, "early");
    const run = startRun(args(stateDir), join(dir, "early-console.log"));
    try {
      await run.waitForLog(/domain running/, 120_000);
      const t0 = Date.now();
      run.proc.kill("SIGTERM");
      const code = await run.proc.exited;
      // The seed's terminationGracePeriodSeconds is 5: ACPI first, destroy when it is over.
      expect(Date.now() - t0).toBeLessThan(5_000 + 15_000);
      expect([0, 2]).toContain(code);
      expect(leftovers(stateDir, netns)).toEqual([]);
    } finally {
      run.proc.kill("SIGKILL");
    }
  }, 300_000);

  for (const [example, name] of [
    ["examples/vm-v1.yaml", "myvm-v1"],
    ["examples/vmi-masquerade-ports.yaml", "vmi-ports"],
  ] as const) {
    test(`${example} boots: the guest answers at the pod IP on 22 and 8080, and powers off on SIGTERM`, async () => {
      const stateDir = join(dir, name);
      const exampleNetns = podNetnsPlan(name).netns;
      const file = join(repoRoot, example);
      const run = startRun([file, "--emulation", "--registry", registry.address, "--insecure-registry", registry.address, "--state-dir", stateDir], join(dir, `${name}-console.log`));
      try {
        const podIp = (await run.waitForLog(/pod IP ([0-9.]+)/, 60_000))[1]!;
        await run.waitForConsole(/bunvirt-guest: ready/, 180_000);
        // Both ports are declared by vmi-masquerade-ports.yaml; vm-v1.yaml declares none, so all are forwarded.
        expect(await firstLine(podIp, 22)).toBe(`bunvirt-guest ${name}`);
        expect(await firstLine(podIp, 8080)).toBe(`bunvirt-guest ${name}`);
        run.proc.kill("SIGTERM");
        expect(await run.proc.exited).toBe(0);
        expect(leftovers(stateDir, exampleNetns)).toEqual([]);
      } finally {
        run.proc.kill("SIGKILL");
        Bun.spawnSync(["ip", "netns", "del", exampleNetns]);
      }
    }, 300_000);
  }

  test("a VM sized by a cluster instancetype in another file (examples/vm-instancetype.yaml + examples/instancetypes.yaml) boots with its vCPUs, cores and memory", async () => {
    const name = "myvm-sized";
    const stateDir = join(dir, name);
    const sizedNetns = podNetnsPlan(name).netns;
    const files = [join(repoRoot, "examples/vm-instancetype.yaml"), join(repoRoot, "examples/instancetypes.yaml")];
    const run = startRun([...files, "--emulation", "--registry", registry.address, "--insecure-registry", registry.address, "--state-dir", stateDir], join(dir, `${name}-console.log`));
    try {
      // tiny.2c: 2 vCPUs laid out as cores (the preference), 192Mi; the guest's MemTotal is that less what its kernel keeps.
      const [, cpus, kib] = await run.waitForConsole(/bunvirt-guest: cpus (\d+) memory (\d+) kB/, 180_000);
      expect(Number(cpus)).toBe(2);
      expect(Number(kib)).toBeGreaterThan(150 * 1024);
      expect(Number(kib)).toBeLessThanOrEqual(192 * 1024);
      const qemu = Bun.spawnSync(["pgrep", "-a", "-f", `guest=default_${name}`]).stdout.toString();
      expect(qemu).toMatch(/-smp 2,sockets=1,(dies=1,)?cores=2,threads=1/);
      await run.waitForConsole(/bunvirt-guest: ready/, 180_000);
      run.proc.kill("SIGTERM");
      expect(await run.proc.exited).toBe(0);
      expect(leftovers(stateDir, sizedNetns)).toEqual([]);
    } finally {
      run.proc.kill("SIGKILL");
      Bun.spawnSync(["ip", "netns", "del", sizedNetns]);
    }
  }, 300_000);

  test("dedicatedCpuPlacement: each vCPU thread of QEMU runs only on its own host CPU", async () => {
    const name = "myvm-pinned";
    const stateDir = join(dir, name);
    const pinnedNetns = podNetnsPlan(name).netns;
    const text = readFileSync(join(repoRoot, "examples/vm-v1.yaml"), "utf8").replaceAll("myvm-v1", name).replace("cores: 1", "cores: 2\n          dedicatedCpuPlacement: true");
    if (!text.includes("dedicatedCpuPlacement")) throw new Error("Cannot place dedicatedCpuPlacement in examples/vm-v1.yaml");
    const file = join(dir, `${name}.yaml`);
    await Bun.write(file, text);
    const run = startRun([file, "--emulation", "--registry", registry.address, "--insecure-registry", registry.address, "--state-dir", stateDir], join(dir, `${name}-console.log`));
    try {
      await run.waitForConsole(/bunvirt-guest: cpus 2 /, 180_000);
      const pid = Bun.spawnSync(["pgrep", "-f", `guest=default_${name}`]).stdout.toString().trim().split("\n")[0]!;
      // QEMU names its vCPU threads "CPU n/TCG" (or "CPU n/KVM"); libvirt pinned vCPU n to the n-th allowed CPU (0 and 1 here).
      const affinity = readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
        const m = /^CPU (\d+)\//.exec(comm);
        if (m === null) return [];
        const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8"))![1];
        return [`vCPU ${m[1]} on ${list}`];
      });
      expect(affinity.sort()).toEqual(["vCPU 0 on 0", "vCPU 1 on 1"]);
      // Powered off by ACPI once the guest listens for it (before, the grace period ends in a destroy).
      await run.waitForConsole(/bunvirt-guest: ready/, 180_000);
      run.proc.kill("SIGTERM");
      expect(await run.proc.exited).toBe(0);
      expect(leftovers(stateDir, pinnedNetns)).toEqual([]);
    } finally {
      run.proc.kill("SIGKILL");
      Bun.spawnSync(["ip", "netns", "del", pinnedNetns]);
    }
  }, 300_000);

  test("killing libvirtd under a running VM: not ready, restarted, the VM keeps running", async () => {
    const stateDir = join(dir, "restart");
    const run = startRun(args(stateDir), join(dir, "restart-console.log"));
    try {
      const podIp = (await run.waitForLog(/pod IP ([0-9.]+)/, 60_000))[1]!;
      await run.waitForConsole(/bunvirt-guest: ready/, 180_000);
      const client = new LauncherClient(join(stateDir, "launcher.sock"));
      expect((await client.status()).ready).toBe(true);
      const qemuBefore = Bun.spawnSync(["pgrep", "-f", "guest=default_myvm"]).stdout.toString().trim();
      const libvirtdPid = Number(readFileSync(join(stateDir, "libvirt/pids/libvirtd.pid"), "utf8").trim());
      process.kill(libvirtdPid, "SIGKILL");
      let sawNotReady = false;
      let readyAgain = false;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !readyAgain) {
        const s = await client.status().catch(() => null);
        if (s !== null && !s.ready) sawNotReady = true;
        if (s !== null && s.ready && sawNotReady) readyAgain = true;
        await Bun.sleep(10);
      }
      expect(sawNotReady).toBe(true);
      expect(readyAgain).toBe(true);
      expect(run.log()).toMatch(/libvirtd\[\d+\] running again \(restart 1\)/);
      expect((await client.status()).state).toBe("running");
      expect(Bun.spawnSync(["pgrep", "-f", "guest=default_myvm"]).stdout.toString().trim()).toBe(qemuBefore);
      expect(await firstLine(podIp, 8080)).toStartWith("bunvirt-guest ");
      run.proc.kill("SIGTERM");
      expect(await run.proc.exited).toBe(0);
      expect(leftovers(stateDir, netns)).toEqual([]);
    } finally {
      run.proc.kill("SIGKILL");
    }
  }, 400_000);
});
