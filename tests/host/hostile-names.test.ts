/**
 * Hostile names and state directories against the real executable, as root:
 * a manifest whose name climbs out of the run root, a state directory that
 * is a symlink or that QEMU cannot reach, a VM that fails before its domain
 * starts, a stale overlay over another image. Each asserts the error and
 * that nothing outside bunvirt's own directories changed (a canary tree:
 * contents, modes and owners compared before and after).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { containerDiskProvider } from "../../src/storage/container-disk-provider.ts";
import { ephemeralProvider } from "../../src/storage/ephemeral-provider.ts";
import { readDiskHeader } from "../../src/storage/disk-header.ts";
import type { VolumeContext } from "../../src/storage/provider.ts";
import { bunvirtCommand, runBunvirt } from "../lib/bunvirt.ts";
import { makeCanary, snapshot } from "../lib/canary.ts";
import { command, hostTier, root } from "../lib/host.ts";

const skip = hostTier("hostile-names", [
  root,
  command("libvirtd", "libvirt-daemon"),
  command("libvirt-dbus", "libvirt-dbus"),
  command("qemu-system-x86_64", "qemu-system-x86"),
  command("qemu-img", "qemu-utils"),
]);

const runRoot = "/var/lib/bunvirt/run";

/** A VMI with an empty disk and a cloud-init disk, no network: nothing to pull. */
function vmi(name: string, extra: { machine?: string; volume?: string } = {}): string {
  const volume = extra.volume ?? "scratch";
  return JSON.stringify({
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      domain: {
        ...(extra.machine !== undefined ? { machine: { type: extra.machine } } : {}),
        resources: { requests: { memory: "64M" } },
        devices: { autoattachPodInterface: false, disks: [{ name: volume, disk: { bus: "virtio" } }, { name: "ci", disk: { bus: "virtio" } }] },
      },
      volumes: [
        { name: volume, emptyDisk: { capacity: "16Mi" } },
        { name: "ci", cloudInitNoCloud: { userData: "#cloud-config\n" } },
      ],
    },
  });
}

/** A VMI whose only disk is a containerDisk from `registry`. */
function pulledVmi(name: string, registry: string): string {
  return JSON.stringify({
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: { name },
    spec: {
      domain: { resources: { requests: { memory: "64M" } }, devices: { autoattachPodInterface: false, disks: [{ name: "root", disk: { bus: "virtio" } }] } },
      volumes: [{ name: "root", containerDisk: { image: `${registry}/disk:1` } }],
    },
  });
}

describe.skipIf(skip !== null)("hostile names and state directories (host tier)", () => {
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-hostile-"));
  chmodSync(dir, 0o755);
  const canary = makeCanary(join(dir, "canary"));
  let before: string[];
  let runRootBefore: string[];
  // A registry that only counts requests: anything reaching it means a pull started.
  let requests = 0;
  let registry: ReturnType<typeof Bun.serve>;
  let registryAddr: string;

  beforeAll(() => {
    before = snapshot(canary);
    runRootBefore = existsSync(runRoot) ? readdirSync(runRoot).sort() : [];
    registry = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => { requests++; return new Response("no", { status: 404 }); } });
    registryAddr = `127.0.0.1:${registry.port}`;
  });
  afterAll(async () => {
    await registry?.stop(true);
    rmSync(dir, { recursive: true, force: true });
  });
  const unchanged = (): void => {
    expect(snapshot(canary)).toEqual(before);
    expect(existsSync(runRoot) ? readdirSync(runRoot).sort() : []).toEqual(runRootBefore);
  };

  test("a name that climbs out of the run root is refused by run and volumes prepare; the target is untouched", async () => {
    const hostile = `a/../../../../..${canary}`;
    const file = join(dir, "hostile.json");
    writeFileSync(file, vmi(hostile));
    const run = await runBunvirt(["run", file, "--network", "none", "--emulation", "--console", "off"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("metadata.name:");
    expect(run.stderr).toContain("DNS-1123 subdomain");
    const prep = await runBunvirt(["volumes", "prepare", file, "--state-dir", join(dir, "prep")]);
    expect(prep.code).toBe(1);
    expect(prep.stderr).toContain("metadata.name:");
    expect(existsSync(join(dir, "prep"))).toBe(false);
    const validate = await runBunvirt(["validate", file]);
    expect(validate.code).toBe(1);
    expect(validate.stdout).toMatch(/metadata\.name: "a\/\.\.\/.*" must be a DNS-1123 subdomain/);
    unchanged();
  }, 60_000);

  test("a hostile volume name is refused before any file is made", async () => {
    const file = join(dir, "hostile-volume.json");
    writeFileSync(file, vmi("vm1", { volume: "../../canary" }));
    const prep = await runBunvirt(["volumes", "prepare", file, "--state-dir", join(dir, "prep2")]);
    expect(prep.code).toBe(1);
    expect(prep.stderr).toMatch(/DNS-1123 label/);
    expect(existsSync(join(dir, "prep2"))).toBe(false);
    unchanged();
  }, 60_000);

  test("a --state-dir that is a symlink is refused before anything is pulled or written", async () => {
    const file = join(dir, "pulled.json");
    writeFileSync(file, pulledVmi("vm-link", registryAddr));
    const link = join(dir, "state-link");
    symlinkSync(canary, link);
    const run = await runBunvirt(["run", file, "--network", "none", "--emulation", "--console", "off", "--insecure-registry", registryAddr, "--state-dir", link]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Cannot use state directory "${link}": it is a symlink (to "${canary}")`);
    const prep = await runBunvirt(["volumes", "prepare", file, "--insecure-registry", registryAddr, "--state-dir", link]);
    expect(prep.code).toBe(1);
    expect(prep.stderr).toContain("it is a symlink");
    expect(requests).toBe(0);
    unchanged();
  }, 60_000);

  test("a --state-dir below a 0700 directory is refused, naming it, before anything is pulled or written", async () => {
    const closed = join(dir, "closed");
    mkdirSync(closed);
    chmodSync(closed, 0o700);
    const file = join(dir, "pulled2.json");
    writeFileSync(file, pulledVmi("vm-closed", registryAddr));
    const run = await runBunvirt(["run", file, "--network", "none", "--emulation", "--console", "off", "--insecure-registry", registryAddr, "--state-dir", join(closed, "vm")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`QEMU runs as "libvirt-qemu" \\(uid \\d+\\) and cannot enter "${closed}" \\(mode 0700`));
    expect(requests).toBe(0);
    expect(readdirSync(closed)).toEqual([]);
    unchanged();
  }, 60_000);

  test("a VM that fails before its domain starts leaves its state directory clean (given and default)", async () => {
    const file = join(dir, "bad-machine.json");
    writeFileSync(file, vmi("vm-fails", { machine: "bunvirt-no-such-machine" }));
    const stateDir = join(dir, "fails");
    const given = await runBunvirt(["run", file, "--network", "none", "--emulation", "--console", "off", "--state-dir", stateDir]);
    expect(given.code).toBe(1);
    expect(given.stderr).toMatch(/run: Cannot define domain "default_vm-fails"/);
    expect(given.stderr).toContain("preparing storage"); // it got as far as making its disks
    expect(readdirSync(join(stateDir, "volumes"))).toEqual([]);
    expect(existsSync(join(stateDir, "launcher.sock"))).toBe(false);
    expect(Bun.spawnSync(["pgrep", "-af", stateDir]).stdout.toString().trim()).toBe("");
    const byDefault = await runBunvirt(["run", file, "--network", "none", "--emulation", "--console", "off"]);
    expect(byDefault.code).toBe(1);
    expect(existsSync(join(runRoot, "default_vm-fails"))).toBe(false);
    expect(Bun.spawnSync(["pgrep", "-af", join(runRoot, "default_vm-fails")]).stdout.toString().trim()).toBe("");
    unchanged();
  }, 180_000);

  test("a stale containerDisk overlay over another image is replaced, not reused", async () => {
    // The puller is replaced (the registry is not what this proves): two images are two disks in a cache directory.
    const cacheDir = join(dir, "cache");
    const stateDir = join(dir, "stale");
    mkdirSync(stateDir);
    const disks: Record<string, string> = {};
    for (const tag of ["a", "b"]) {
      const d = join(cacheDir, "sha256", tag.repeat(64));
      mkdirSync(d, { recursive: true });
      disks[tag] = join(d, "disk.raw");
      expect(Bun.spawnSync(["qemu-img", "create", "-f", "raw", disks[tag]!, "1M"]).exitCode).toBe(0);
    }
    const warnings: string[] = [];
    const pulls: string[] = [];
    const provider = containerDiskProvider({
      pull: async (reference) => {
        pulls.push(reference);
        const tag = reference.endsWith(":a") ? "a" : "b";
        return { reference, digest: `sha256:${tag.repeat(64)}`, path: disks[tag]!, format: "raw", virtualSize: 1 << 20, bytes: 1 << 20, bytesFetched: 0, cacheHit: true };
      },
    });
    const ctx: VolumeContext = {
      stateDir,
      claims: {},
      secrets: {},
      registry: { cacheDir, insecureRegistries: [registryAddr] },
      vmi: { namespace: "default", name: "vm-stale" },
      log: { info: () => undefined, warn: (m, f) => warnings.push(`${m} ${JSON.stringify(f)}`) },
    };
    const volume = (tag: string) => ({ name: "root", containerDisk: { image: `${registryAddr}/disk:${tag}` } });
    const first = await provider.prepare(volume("a"), ctx);
    expect((await readDiskHeader(first.path)).backingFile).toBe(disks.a);
    // Same image again (a restarted launcher): kept, nothing pulled.
    await provider.prepare(volume("a"), ctx);
    expect(pulls).toEqual([`${registryAddr}/disk:a`]);
    // The manifest now names another image: the overlay over "a" is not reused.
    const second = await provider.prepare(volume("b"), ctx);
    expect(second.path).toBe(first.path);
    expect((await readDiskHeader(second.path)).backingFile).toBe(disks.b);
    expect(warnings.join("\n")).toMatch(/replacing a stale container disk overlay .*disk:a.*disk:b/);
    await provider.cleanup(volume("b"), ctx);
    expect(readdirSync(stateDir)).toEqual([]);
    unchanged();
  }, 60_000);

  test("a stale ephemeral overlay over another claim's disk is replaced", async () => {
    const stateDir = join(dir, "stale-ephemeral");
    mkdirSync(stateDir);
    const claims: VolumeContext["claims"] = {};
    for (const c of ["claim-a", "claim-b"]) {
      mkdirSync(join(dir, c));
      expect(Bun.spawnSync(["qemu-img", "create", "-f", "raw", join(dir, c, "disk.img"), "1M"]).exitCode).toBe(0);
      (claims as Record<string, { path: string }>)[c] = { path: join(dir, c) };
    }
    const warnings: string[] = [];
    const ctx: VolumeContext = { stateDir, claims, secrets: {}, vmi: { namespace: "default", name: "vm-eph" }, log: { info: () => undefined, warn: (m) => warnings.push(m) } };
    const volume = (claimName: string) => ({ name: "data", ephemeral: { persistentVolumeClaim: { claimName } } });
    const provider = ephemeralProvider();
    const first = await provider.prepare(volume("claim-a"), ctx);
    expect((await readDiskHeader(first.path)).backingFile).toBe(join(dir, "claim-a", "disk.img"));
    const second = await provider.prepare(volume("claim-b"), ctx);
    expect((await readDiskHeader(second.path)).backingFile).toBe(join(dir, "claim-b", "disk.img"));
    expect(warnings).toEqual(["replacing a stale ephemeral overlay"]);
    await provider.cleanup(volume("claim-b"), ctx);
    expect(readdirSync(stateDir)).toEqual([]);
    unchanged();
  }, 60_000);

  test("SIGTERM while run stages its disks: the pull stops and the default state directory is gone", async () => {
    // A registry that never answers: the pull waits until it is stopped.
    let asked = 0;
    const stalled = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => { asked++; return new Promise<Response>(() => undefined); } });
    const addr = `127.0.0.1:${stalled.port}`;
    try {
      const file = join(dir, "stalled.json");
      writeFileSync(file, pulledVmi("vm-stalled", addr));
      const proc = Bun.spawn([...bunvirtCommand(), "run", file, "--emulation", "--console", "off", "--insecure-registry", addr], { stdout: "pipe", stderr: "pipe" });
      const own = join(runRoot, "default_vm-stalled");
      for (let i = 0; i < 300 && asked === 0; i++) await Bun.sleep(100);
      expect(asked).toBeGreaterThan(0);
      expect(existsSync(own)).toBe(true);
      proc.kill("SIGTERM");
      const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      expect(code).toBe(1);
      expect(stderr).toContain("run: SIGTERM: stopping the pull");
      expect(existsSync(own)).toBe(false);
      unchanged();
    } finally {
      await stalled.stop(true);
    }
  }, 120_000);
});
