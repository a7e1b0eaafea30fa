import { afterAll, describe, expect, test } from "bun:test";
import { chmod, chown, lstat, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { providerContract, snapshot } from "../../../tests/contracts/storage-provider.ts";
import { hostDiskCase, hostDiskFixtures, hostDiskTree, qemuForTests } from "../../../tests/lib/host-disk-fixtures.ts";
import { recordingLog, TempDirs } from "../../../tests/lib/storage.ts";
import { toPreparedVolume } from "../provider.ts";
import { accessFor, hostDiskProvider } from "./host-disk-provider.ts";

providerContract("hostDisk", () => hostDiskProvider({ qemu: qemuForTests }), hostDiskFixtures(new TempDirs()), { formatCheck: "magic" });

const MiB = 1024 * 1024;
const dirs = new TempDirs();
afterAll(() => dirs.dispose());
const provider = hostDiskProvider({ qemu: qemuForTests });

describe("hostDisk", () => {
  test("DiskOrCreate makes a sparse raw file of the capacity, QEMU's user's, mode 0660, with the owner kept from libvirt", async () => {
    const t = await hostDiskTree(dirs);
    const c = hostDiskCase(t, { path: join(t.allowed, "vm1.img"), type: "DiskOrCreate", capacity: "100Mi" });
    const r = await provider.prepare(c.volume, c.ctx);
    expect(r).toEqual({ name: "hostdisk", kind: "hostDisk", path: join(t.allowed, "vm1.img"), format: "raw", readOnly: false, block: false, keepOwner: true });
    const s = await lstat(r.path);
    expect([s.size, s.uid, s.gid, s.mode & 0o7777, s.nlink]).toEqual([100 * MiB, qemuForTests.uid, qemuForTests.gid, 0o660, 1]);
    expect(s.blocks * 512).toBeLessThan(MiB);
    expect(toPreparedVolume(r)).toEqual({ kind: "file", path: r.path, format: "raw", readOnly: false, keepOwner: true });
  });

  test("an existing file is used as it is: never truncated, re-owned or changed in mode (CVE-2025-64324), and never removed", async () => {
    const t = await hostDiskTree(dirs);
    const path = join(t.allowed, "vm1.img");
    await writeFile(path, new Uint8Array(3 * MiB).fill(7), { mode: 0o644 });
    await chown(path, 1234, 4321);
    const before = await snapshot([t.root]);
    const owner = await stat(path);
    for (const hostDisk of [{ path, type: "Disk" as const }, { path, type: "DiskOrCreate" as const, capacity: "1Gi" }]) {
      const c = hostDiskCase(t, hostDisk);
      const r = await provider.prepare(c.volume, c.ctx);
      expect(r.path).toBe(path);
      // 0644 owned by someone else: QEMU's user may read it, not write it.
      expect(r.readOnly).toBe(true);
      expect(await provider.cleanup(c.volume, c.ctx)).toEqual([]);
    }
    const after = await stat(path);
    expect([after.uid, after.gid, after.mode, after.size, after.mtimeMs, after.ctimeMs]).toEqual([owner.uid, owner.gid, owner.mode, owner.size, owner.mtimeMs, owner.ctimeMs]);
    expect(await snapshot([t.root])).toEqual(before);
  });

  test("an existing file QEMU's user may write is prepared writable; subdirectories of the allowed directory are walked", async () => {
    const t = await hostDiskTree(dirs);
    await Bun.write(join(t.allowed, "alice", "vm1.img"), new Uint8Array(MiB));
    await chown(join(t.allowed, "alice", "vm1.img"), qemuForTests.uid, qemuForTests.gid);
    const c = hostDiskCase(t, { path: join(t.allowed, "alice", "vm1.img"), type: "Disk" });
    const r = await provider.prepare(c.volume, c.ctx);
    expect([r.path, r.readOnly]).toEqual([join(t.allowed, "alice", "vm1.img"), false]);
  });

  test("in a launcher pod the allowed directory is reached at its mount: QEMU gets the mount's path", async () => {
    const t = await hostDiskTree(dirs);
    const c = hostDiskCase(t, { path: "/srv/vms/vm1.img", type: "DiskOrCreate", capacity: "1Mi" });
    const ctx = { ...c.ctx, hostDiskRoots: [{ dir: "/srv/vms", at: t.allowed }] };
    const r = await provider.prepare(c.volume, ctx);
    expect(r.path).toBe(join(t.allowed, "vm1.img"));
    expect((await lstat(r.path)).size).toBe(MiB);
  });

  test("a capacity up to 10% over the free space is made the size of the free space, with a warning", async () => {
    const t = await hostDiskTree(dirs);
    const fs = (await import("node:fs")).statfsSync(t.allowed);
    const free = fs.bavail * fs.bsize;
    const log = recordingLog();
    const c = hostDiskCase(t, { path: join(t.allowed, "vm1.img"), type: "DiskOrCreate", capacity: String(Math.floor(free * 1.05)) });
    const r = await provider.prepare(c.volume, { ...c.ctx, log });
    const size = (await lstat(r.path)).size;
    expect(size).toBeLessThan(free);
    expect(size).toBeGreaterThan(free * 0.9);
    expect(log.lines.some((l) => l.startsWith("warn created hostDisk smaller than its capacity"))).toBe(true);
  });

  test("cleanup removes a dead prepare's temporary file, never the disk nor a live one's", async () => {
    const t = await hostDiskTree(dirs);
    const c = hostDiskCase(t, { path: join(t.allowed, "vm1.img"), type: "DiskOrCreate", capacity: "1Mi" });
    await provider.prepare(c.volume, c.ctx);
    await writeFile(join(t.allowed, ".vm1.img.tmp-999999999-abcd0123"), "dead");
    await writeFile(join(t.allowed, `.vm1.img.tmp-${process.pid}-abcd0123`), "live");
    expect(await provider.cleanup(c.volume, c.ctx)).toEqual([join(t.allowed, ".vm1.img.tmp-999999999-abcd0123")]);
    expect((await lstat(join(t.allowed, "vm1.img"))).isFile()).toBe(true);
    expect((await lstat(join(t.allowed, `.vm1.img.tmp-${process.pid}-abcd0123`))).isFile()).toBe(true);
  });

  test("a directory QEMU's user cannot enter is refused before the file is made", async () => {
    const t = await hostDiskTree(dirs);
    await chmod(t.allowed, 0o700);
    const c = hostDiskCase(t, { path: join(t.allowed, "vm1.img"), type: "DiskOrCreate", capacity: "1Mi" });
    const e = await provider.prepare(c.volume, c.ctx).catch((x: unknown) => x);
    expect((e as Error).message).toBe(`Cannot prepare volume "hostdisk": QEMU's user libvirt-qemu cannot enter "${t.allowed}" (mode 0700) on the way to hostDisk "${join(t.allowed, "vm1.img")}"`);
    expect(await readdir(t.allowed)).toEqual([]);
  });

  test("QEMU's access follows the owner, group, then other bits", () => {
    const q = { ...qemuForTests, groups: [7] };
    expect(accessFor({ uid: q.uid, gid: 0, mode: 0o600 }, q)).toEqual({ read: true, write: true });
    expect(accessFor({ uid: 0, gid: 7, mode: 0o640 }, q)).toEqual({ read: true, write: false });
    expect(accessFor({ uid: 0, gid: 0, mode: 0o604 }, q)).toEqual({ read: true, write: false });
    expect(accessFor({ uid: 0, gid: 0, mode: 0o660 }, q)).toEqual({ read: false, write: false });
    expect(accessFor({ uid: 0, gid: 0, mode: 0o000 }, { ...q, uid: 0 })).toEqual({ read: true, write: true });
  });
});
