/**
 * DataVolumes under `bunvirt run`, on real parts: a VM whose root disk is a
 * dataVolumeTemplate with an http source (the test guest's qcow2, served by
 * Bun.serve on this host's 127.0.0.1) is imported into its claim under
 * --claims-dir (converted to raw by qemu-img), and the guest boots from it
 * (TCG) to "bunvirt-guest: ready". A second run finds the import finished,
 * fetches nothing and boots the same claim; the claim outlives both runs.
 * A registry source against a real docker-registry on 127.0.0.1 (the test
 * guest pushed as a containerDisk image) is imported through the node cache.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { podNetnsPlan } from "../../src/local/pod-netns.ts";
import { qemuImgInfo } from "../../src/storage/qemu-img.ts";
import { repoRoot } from "../lib/bunvirt.ts";
import { command, hostTier, root } from "../lib/host.ts";
import { silentLog } from "../../src/storage/provider.ts";
import { importDataVolume } from "../../src/storage/import/index.ts";
import { guestRegistry, leftovers, startRun } from "./fixtures/run/local-run.ts";

const skip = hostTier("data-volume", [
  root,
  command("libvirtd", "libvirt-daemon"),
  command("libvirt-dbus", "libvirt-dbus"),
  command("qemu-system-x86_64", "qemu-system-x86"),
  command("qemu-img", "qemu-utils"),
  command("nft", "nftables"),
  command("docker-registry", "docker-registry"),
  command("skopeo", "skopeo"),
]);

const name = "dv-vm";
const netns = podNetnsPlan(name).netns;

function manifest(url: string): string {
  return `apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: ${name}
spec:
  runStrategy: Always
  dataVolumeTemplates:
  - metadata:
      name: root-dv
    spec:
      storage:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: 128Mi
      source:
        http:
          url: ${url}
  template:
    spec:
      terminationGracePeriodSeconds: 5
      domain:
        memory:
          guest: 128Mi
        devices:
          disks:
          - name: rootdisk
            disk:
              bus: virtio
      volumes:
      - name: rootdisk
        dataVolume:
          name: root-dv
`;
}

describe.skipIf(skip !== null)("bunvirt run: a dataVolumeTemplate with an http source (host tier)", () => {
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-dv-"));
  chmodSync(dir, 0o755);
  const claimsDir = join(dir, "claims");
  let server: ReturnType<typeof Bun.serve>;
  let gets = 0;
  let file = "";
  let guestQcow2 = "";

  /** qemu-img compare: the same guest-visible bytes (the larger disk's tail all zeros). */
  const sameContent = (raw: string): boolean =>
    Bun.spawnSync(["qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", raw, guestQcow2]).exitCode === 0;

  beforeAll(() => {
    const build = Bun.spawnSync([join(repoRoot, "scripts/guest/build.sh")], { stdout: "pipe", stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`scripts/guest/build.sh failed: ${build.stderr.toString()}`);
    const guest = build.stdout.toString().trim().split("\n").at(-1)!;
    guestQcow2 = join(guest, "disk.qcow2");
    const image = readFileSync(guestQcow2);
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req): Response {
        if (new URL(req.url).pathname !== "/guest.qcow2") return new Response("no", { status: 404 });
        gets++;
        return new Response(image);
      },
    });
    file = join(dir, "vm.yaml");
    writeFileSync(file, manifest(`http://127.0.0.1:${server.port}/guest.qcow2`));
  }, 300_000);

  afterAll(() => {
    server?.stop(true);
    Bun.spawnSync(["ip", "netns", "del", netns]);
    rmSync(dir, { recursive: true, force: true });
  });

  const boot = async (label: string): Promise<string> => {
    const stateDir = join(dir, `state-${label}`);
    const run = startRun([file, "--emulation", "--claims-dir", claimsDir, "--state-dir", stateDir], join(dir, `${label}-console.log`));
    try {
      await run.waitForConsole(/bunvirt-guest: ready/, 240_000);
      run.proc.kill("SIGTERM");
      expect(await run.proc.exited).toBe(0);
      expect(leftovers(stateDir, netns)).toEqual([]);
      return run.log();
    } finally {
      run.proc.kill("SIGKILL");
    }
  };

  test("the import fills the claim (qcow2 converted to raw, grown to the requested size) and the guest boots from it; a second run boots it without fetching", async () => {
    const disk = join(claimsDir, "default", "root-dv", "disk.img");
    const first = await boot("first");
    expect(first).toContain('DataVolume "root-dv" imported');
    expect(gets).toBe(1);
    const info = await qemuImgInfo(disk);
    expect(info.format).toBe("raw");
    expect(info["virtual-size"]).toBe(128 * 2 ** 20);
    expect(sameContent(disk)).toBe(true);

    const second = await boot("second");
    expect(second).toContain('DataVolume "root-dv" was imported before');
    expect(gets).toBe(1);
    expect(existsSync(disk)).toBe(true);
  }, 600_000);

  test("a registry source: the guest's containerDisk image from a real registry, through the node cache, into a claim as raw", async () => {
    const registry = await guestRegistry(join(dir, "registry"));
    try {
      const claim = join(dir, "registry-claim");
      const cacheDir = join(dir, "cache");
      Bun.spawnSync(["mkdir", "-p", claim, cacheDir]);
      const target = { name: "from-registry", source: { registry: { url: `docker://${registry.address}/kubevirt/cirros-registry-disk-demo:devel` } }, sizeBytes: 96 * 2 ** 20, claim: { path: claim } };
      const ctx = { claims: {}, secrets: {}, log: silentLog, registry: { cacheDir, insecureRegistries: [registry.address] } };
      expect((await importDataVolume(target, ctx)).state).toBe("imported");
      const info = await qemuImgInfo(join(claim, "disk.img"));
      expect(info.format).toBe("raw");
      expect(info["virtual-size"]).toBe(96 * 2 ** 20);
      expect(sameContent(join(claim, "disk.img"))).toBe(true);
      // Smaller than the image's virtual size (64Mi): refused, the second claim left empty.
      const small = join(dir, "small-claim");
      Bun.spawnSync(["mkdir", "-p", small]);
      const e = await importDataVolume({ ...target, sizeBytes: 32 * 2 ** 20, claim: { path: small } }, ctx).catch((x: unknown) => x as Error);
      expect((e as Error).message).toMatch(/virtual size is 64 MiB, larger than the requested 32 MiB/);
      expect(Bun.spawnSync(["ls", "-A", small]).stdout.toString()).toBe("");
    } finally {
      await registry.stop();
    }
  }, 300_000);
});
