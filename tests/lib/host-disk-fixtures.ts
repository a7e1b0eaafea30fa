/**
 * Contract fixtures of the hostDisk provider: a root (mode 0755, so QEMU's
 * user can reach below it) holding `allowed/` (the operator's directory),
 * `outside/` (with a file that must never change) and `state/`. Every case
 * watches the whole root, so "nothing created or changed outside" is
 * proved by the contract's before/after snapshots.
 */
import { chmod, link, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ContractCase, ContractFixtures } from "../contracts/storage-provider.ts";
import type { Account } from "../../src/launcher/state-dir.ts";
import { hostDiskProvider } from "../../src/storage/host-disk/host-disk-provider.ts";
import type { Volume } from "../../src/storage/provider.ts";
import { contextOf, TempDirs } from "./storage.ts";

export interface HostDiskTree {
  readonly root: string;
  readonly allowed: string;
  readonly outside: string;
  readonly stateDir: string;
}

export async function hostDiskTree(dirs: TempDirs): Promise<HostDiskTree> {
  const root = await dirs.make("bunvirt-hostdisk-");
  await chmod(root, 0o755);
  const t = { root, allowed: join(root, "allowed"), outside: join(root, "outside"), stateDir: join(root, "state") };
  for (const d of [t.allowed, t.outside, t.stateDir]) await mkdir(d, { mode: 0o755 });
  await writeFile(join(t.outside, "secret"), "not for guests\n", { mode: 0o600 });
  return t;
}

type HostDisk = NonNullable<Volume["hostDisk"]>;

/** A hostDisk case watching the whole tree; `roots` are the allowed directories (default: `allowed/`). */
export function hostDiskCase(t: HostDiskTree, hostDisk: HostDisk, roots: readonly string[] = [t.allowed]): ContractCase {
  const ctx = contextOf({ stateDir: t.stateDir });
  return { volume: { name: "hostdisk", hostDisk }, ctx: { ...ctx, hostDiskRoots: roots.map((dir) => ({ dir, at: dir })) }, watch: [t.root] };
}

const MiB = 1024 * 1024;

/** An account that is not root (the unit tier runs as root; QEMU never does). */
export const qemuForTests: Account = { name: "libvirt-qemu", uid: 64055, gid: 64055, groups: [] };

export function hostDiskFixtures(dirs: TempDirs): ContractFixtures {
  const tree = (): Promise<HostDiskTree> => hostDiskTree(dirs);
  const bad = (title: string, error: RegExp, make: (t: HostDiskTree) => Promise<ContractCase>) => ({ title, error, make: async () => make(await tree()) });
  return {
    good: async () => {
      const t = await tree();
      return { ...hostDiskCase(t, { path: join(t.allowed, "vm1.img"), type: "DiskOrCreate", capacity: "64Mi" }), keeps: [join(t.allowed, "vm1.img")] };
    },
    failing: [
      // The fault is an account whose uid no file can have (fchown refuses it after the temporary file
      // exists): nothing else makes a create fail part-way once the free space was checked.
      bad("giving the new file to QEMU's user fails after its temporary file exists", /cannot create hostDisk ".*vm1\.img": .*(uid|range)/i, async (t) => ({
        ...hostDiskCase(t, { path: join(t.allowed, "vm1.img"), type: "DiskOrCreate", capacity: "64Mi" }),
        provider: hostDiskProvider({ qemu: { ...qemuForTests, uid: 2 ** 33 } }),
      })),
      bad("the capacity is more than the directory's free space", /cannot create hostDisk ".*big\.img": the capacity of \d+ bytes is more than the \d+ bytes free/, async (t) =>
        hostDiskCase(t, { path: join(t.allowed, "big.img"), type: "DiskOrCreate", capacity: "1Pi" })),
    ],
    bad: [
      bad("no directory is allowed (the default)", /is not below a directory allowed for host disks \(hostDisk is off: no directory is allowed\); allow its directory with the setting host-disk-dirs/, async (t) =>
        hostDiskCase(t, { path: join(t.allowed, "vm1.img"), type: "DiskOrCreate", capacity: "64Mi" }, [])),
      bad("a path outside the allowed directory", /outside\/new\.img" is not below a directory allowed for host disks \(allowed: ".*allowed"\)/, async (t) =>
        hostDiskCase(t, { path: join(t.outside, "new.img"), type: "DiskOrCreate", capacity: "64Mi" })),
      bad("a path climbing out with ..", /hostDisk\.path ".*allowed\/\.\.\/outside\/secret" must not hold "\." or "\.\." segments/, async (t) =>
        hostDiskCase(t, { path: `${t.allowed}/../outside/secret`, type: "Disk" })),
      bad("a symlinked directory on the way, pointing outside", /allowed\/link", on the way to hostDisk .* is a symlink; no symlink may be below the allowed directory/, async (t) => {
        await symlink("../outside", join(t.allowed, "link"));
        return hostDiskCase(t, { path: join(t.allowed, "link", "new.img"), type: "DiskOrCreate", capacity: "64Mi" });
      }),
      bad("the disk itself a symlink to a file outside", /vm1\.img" is a symlink; a host disk must be the file itself/, async (t) => {
        await symlink(join(t.outside, "secret"), join(t.allowed, "vm1.img"));
        return hostDiskCase(t, { path: join(t.allowed, "vm1.img"), type: "Disk" });
      }),
      bad("a dangling symlink where DiskOrCreate would create (its target is never made)", /new\.img" is a symlink; a host disk must be the file itself/, async (t) => {
        await symlink(join(t.outside, "made-by-bunvirt.img"), join(t.allowed, "new.img"));
        return hostDiskCase(t, { path: join(t.allowed, "new.img"), type: "DiskOrCreate", capacity: "64Mi" });
      }),
      bad("the allowed directory reached through a symlink", /the allowed directory ".*" is reached through a symlink: it is ".*outside"; name it by its real path/, async (t) => {
        await symlink(t.outside, join(t.root, "alias"));
        return hostDiskCase(t, { path: join(t.root, "alias", "new.img"), type: "DiskOrCreate", capacity: "64Mi" }, [join(t.root, "alias")]);
      }),
      bad("a Disk that does not exist", /vm1\.img" does not exist; with type "Disk" it must/, async (t) => hostDiskCase(t, { path: join(t.allowed, "vm1.img"), type: "Disk" })),
      bad("a missing directory (never created)", /the directory ".*allowed\/sub" of hostDisk .* does not exist; bunvirt creates no directories/, async (t) =>
        hostDiskCase(t, { path: join(t.allowed, "sub", "vm1.img"), type: "DiskOrCreate", capacity: "64Mi" })),
      bad("a directory where the disk should be", /vm1\.img" is a directory; a host disk must be a regular file/, async (t) => {
        await mkdir(join(t.allowed, "vm1.img"));
        return hostDiskCase(t, { path: join(t.allowed, "vm1.img"), type: "DiskOrCreate", capacity: "64Mi" });
      }),
      bad("a FIFO where the disk should be", /vm1\.img" is a FIFO; a host disk must be a regular file/, async (t) => {
        const made = Bun.spawnSync(["mkfifo", join(t.allowed, "vm1.img")]);
        if (made.exitCode !== 0) throw new Error("Cannot run mkfifo");
        return hostDiskCase(t, { path: join(t.allowed, "vm1.img"), type: "Disk" });
      }),
      bad("a hard link (it could be another file's content)", /vm1\.img" has 2 hard links; a host disk must have exactly one/, async (t) => {
        await writeFile(join(t.allowed, "other.img"), new Uint8Array(MiB), { mode: 0o666 });
        await link(join(t.allowed, "other.img"), join(t.allowed, "vm1.img"));
        return hostDiskCase(t, { path: join(t.allowed, "vm1.img"), type: "Disk" });
      }),
      bad("an existing file QEMU's user cannot read (its owner is never changed)", /vm1\.img" \(owner 0:0, mode 0600\) cannot be read by QEMU's user libvirt-qemu \(64055:64055\), and bunvirt never changes an existing host disk's owner or mode/, async (t) => {
        await writeFile(join(t.allowed, "vm1.img"), new Uint8Array(MiB), { mode: 0o600 });
        return { ...hostDiskCase(t, { path: join(t.allowed, "vm1.img"), type: "Disk" }), provider: hostDiskProvider({ qemu: qemuForTests }) };
      }),
    ],
    dispose: () => dirs.dispose(),
  };
}
