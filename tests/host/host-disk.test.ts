/**
 * hostDisk under `bunvirt run` on real parts (libvirtd, QEMU under TCG, the
 * test guest), with the fixes of KubeVirt's CVE-2025-64324:
 * - the guest boots from a host disk of type Disk (the test guest's raw
 *   image, root's file that QEMU's group may write) and sees a DiskOrCreate
 *   disk bunvirt created sparse in the allowed directory at its capacity;
 *   the existing file keeps its owner and mode, both files outlive the run;
 * - hostile volumes are refused with the field and the rule before anything
 *   is created or changed: a path outside the allowed directories, no
 *   --host-disk-dir at all, "..", a symlinked directory on the way, the disk
 *   a symlink to a file outside, a capacity beyond the free space. The
 *   whole test tree and a file outside are compared before and after.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { qemuAccount } from "../../src/launcher/state-dir.ts";
import { snapshot } from "../contracts/storage-provider.ts";
import { command, hostTier, root } from "../lib/host.ts";
import { buildGuest } from "./fixtures/guest/build.ts";
import { leftovers, startRun } from "./fixtures/run/local-run.ts";

const skip = hostTier("host-disk", [root, command("libvirtd", "libvirt-daemon"), command("libvirt-dbus", "libvirt-dbus"), command("qemu-system-x86_64", "qemu-system-x86")]);

const MiB = 1024 * 1024;

/** A VMI with the given hostDisk volumes (name → hostDisk YAML lines), no network. */
function manifest(name: string, disks: Record<string, string>): string {
  const names = Object.keys(disks);
  return `apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata:
  name: ${name}
spec:
  terminationGracePeriodSeconds: 30
  domain:
    resources:
      requests:
        memory: 128M
    devices:
      autoattachPodInterface: false
      disks:
${names.map((n, i) => `      - name: ${n}\n        disk: {}${i === 0 ? "\n        bootOrder: 1" : ""}`).join("\n")}
  volumes:
${names.map((n) => `  - name: ${n}\n    hostDisk:\n${disks[n]!.split("\n").map((l) => `      ${l}`).join("\n")}`).join("\n")}
`;
}

describe.skipIf(skip !== null)("hostDisk under bunvirt run", () => {
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-host-disk-"));
  chmodSync(dir, 0o755);
  const allowed = join(dir, "allowed");
  const outside = join(dir, "outside");
  const secret = join(outside, "secret");
  let guest: string;

  beforeAll(async () => {
    guest = await buildGuest("build.sh");
    mkdirSync(allowed, { mode: 0o755 });
    mkdirSync(outside, { mode: 0o755 });
    writeFileSync(secret, "not for guests\n", { mode: 0o600 });
  }, 30 * 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a guest boots from a Disk and sees the DiskOrCreate disk bunvirt made at its capacity; the existing file keeps its owner", async () => {
    const qemu = qemuAccount();
    const boot = join(allowed, "boot.img");
    copyFileSync(join(guest, "disk.img"), boot);
    // root's file, writable by QEMU's group: libvirt would have made it QEMU's user's if it relabelled it.
    chownSync(boot, 0, qemu.gid);
    chmodSync(boot, 0o660);
    const bootBefore = statSync(boot);
    const data = join(allowed, "data.img");
    const file = join(dir, "hd-boot.yaml");
    writeFileSync(file, manifest("hd-boot", { boot: `path: ${boot}\ntype: Disk`, data: `path: ${data}\ntype: DiskOrCreate\ncapacity: 100Mi` }));
    const stateDir = join(dir, "state-boot");
    const run = startRun([file, "--emulation", "--network", "none", "--host-disk-dir", allowed, "--state-dir", stateDir], join(dir, "boot-console.log"));
    try {
      // Sizes in 512-byte sectors: the 64 MiB boot image and the 100 MiB disk made for the guest.
      const seen = await run.waitForConsole(/bunvirt-guest: disks (.*)/, 240_000);
      expect(seen[1]!.trim().split(" ")).toEqual([`vda=${(64 * MiB) / 512}`, `vdb=${(100 * MiB) / 512}`]);
      await run.waitForConsole(/bunvirt-guest: ready/, 60_000);
      expect(run.log()).toContain("created a sparse hostDisk");
      run.proc.kill("SIGTERM");
      expect(await run.proc.exited).toBe(0);
      expect(leftovers(stateDir, "none")).toEqual([]);
    } finally {
      run.proc.kill("SIGKILL");
    }
    const made = statSync(data);
    expect([made.size, made.uid, made.gid, made.mode & 0o7777, made.nlink]).toEqual([100 * MiB, qemu.uid, qemu.gid, 0o660, 1]);
    expect(made.blocks * 512).toBeLessThan(10 * MiB); // sparse
    const bootAfter = statSync(boot);
    expect([bootAfter.uid, bootAfter.gid, bootAfter.mode, bootAfter.size]).toEqual([bootBefore.uid, bootBefore.gid, bootBefore.mode, bootBefore.size]);
  }, 600_000);

  const hostile: { title: string; disk: (t: { allowed: string; outside: string; dir: string }) => string; flags?: string[]; error: RegExp; before?: () => void }[] = [
    {
      title: "a path outside the allowed directories",
      disk: (t) => `path: ${t.outside}/new.img\ntype: DiskOrCreate\ncapacity: 1Mi`,
      error: /Cannot prepare volume "hd": hostDisk\.path ".*outside\/new\.img" is not below a directory allowed for host disks \(allowed: ".*allowed"\)/,
    },
    {
      title: "no --host-disk-dir: hostDisk is off",
      disk: (t) => `path: ${t.allowed}/new.img\ntype: DiskOrCreate\ncapacity: 1Mi`,
      flags: [],
      error: /hostDisk is off: no directory is allowed\); allow its directory with .* or --host-disk-dir DIR for `bunvirt run`/,
    },
    {
      title: "a path climbing out with ..",
      disk: (t) => `path: ${t.allowed}/../outside/secret\ntype: Disk`,
      error: /spec\.volumes\[0\]\.hostDisk\.path: ".*allowed\/\.\.\/outside\/secret" must not hold "\." or "\.\." segments/,
    },
    {
      title: "a symlinked directory on the way, pointing outside",
      before: () => symlinkSync(outside, join(allowed, "escape")),
      disk: (t) => `path: ${t.allowed}/escape/new.img\ntype: DiskOrCreate\ncapacity: 1Mi`,
      error: /allowed\/escape", on the way to hostDisk .* is a symlink; no symlink may be below the allowed directory/,
    },
    {
      title: "the disk a symlink to a file outside (it is neither opened nor re-owned)",
      before: () => symlinkSync(secret, join(allowed, "stolen.img")),
      disk: (t) => `path: ${t.allowed}/stolen.img\ntype: DiskOrCreate\ncapacity: 1Mi`,
      error: /stolen\.img" is a symlink; a host disk must be the file itself/,
    },
    {
      title: "a capacity beyond the directory's free space",
      disk: (t) => `path: ${t.allowed}/huge.img\ntype: DiskOrCreate\ncapacity: 1Pi`,
      error: /cannot create hostDisk ".*huge\.img": the capacity of 1125899906842624 bytes is more than the \d+ bytes free in its directory/,
    },
  ];

  for (const [i, h] of hostile.entries()) {
    test(`refused, nothing created or changed: ${h.title}`, async () => {
      h.before?.();
      const file = join(dir, `hostile-${i}.yaml`);
      writeFileSync(file, manifest(`hd-hostile-${i}`, { hd: h.disk({ allowed, outside, dir }) }));
      const stateDir = join(dir, `state-hostile-${i}`);
      const tree = [allowed, outside];
      const before = await snapshot(tree);
      const secretBefore = statSync(secret);
      const run = startRun([file, "--emulation", "--network", "none", ...(h.flags ?? ["--host-disk-dir", allowed]), "--state-dir", stateDir], join(dir, `hostile-${i}-console.log`));
      try {
        expect(await run.proc.exited).toBe(1);
        expect(run.log()).toMatch(h.error);
        expect(run.console()).not.toContain("bunvirt-guest:");
      } finally {
        run.proc.kill("SIGKILL");
      }
      expect(await snapshot(tree)).toEqual(before);
      const secretAfter = statSync(secret);
      expect([secretAfter.uid, secretAfter.gid, secretAfter.mode, secretAfter.size, secretAfter.ctimeMs]).toEqual([secretBefore.uid, secretBefore.gid, secretBefore.mode, secretBefore.size, secretBefore.ctimeMs]);
      expect(leftovers(stateDir, "none")).toEqual([]);
    }, 300_000);
  }
});
