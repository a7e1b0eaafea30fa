/**
 * hostDisk: a raw image file on the node, below a directory the operator
 * allows (VolumeContext.hostDiskRoots; none by default). With the fixes of
 * KubeVirt's CVE-2025-64324:
 * - the path is reached with no symlink anywhere below the allowed
 *   directory (no-symlink-walk.ts), and must be a regular file with one
 *   link (not a symlink, directory, device or FIFO, nor a hard link that
 *   could carry another file's content in);
 * - nothing is created outside the disk's own directory, and there only
 *   the file itself (never a directory): a DiskOrCreate file is made sparse
 *   under a temporary name, given to QEMU's user and published without
 *   replacing anything; its capacity is checked against the free space
 *   (free-space.ts);
 * - an existing file is used as it is: never truncated, re-owned or
 *   changed in mode, and libvirt is told to leave its owner alone. QEMU's
 *   user must already be able to read it; one it cannot write is given
 *   to the guest read-only;
 * - cleanup never removes the disk: it outlives the VM.
 */
import { randomBytes } from "node:crypto";
import { closeSync, constants, fchmodSync, fchownSync, ftruncateSync, linkSync, openSync, statfsSync, statSync, unlinkSync, readdirSync, type Stats } from "node:fs";
import { dirname, join, relative } from "node:path";
import { allowedDirFor, hostDiskPathProblem, notAllowedRule } from "../../api/host-disk-dirs.ts";
import { maxHostDiskBytes } from "../../api/limits.ts";
import { parseQuantity } from "../../api/quantity.ts";
import { firstUnsearchable, qemuAccount, type Account } from "../../launcher/state-dir.ts";
import { checkVolumeName, StorageError, type HostDiskRoot, type PreparedDisk, type Volume, type VolumeContext, type VolumeProvider } from "../provider.ts";
import { sizeToCreate } from "./free-space.ts";
import { atPath, describeKind, lookAtIn, openDirNoSymlinks, WalkError } from "./no-symlink-walk.ts";

export interface HostDiskOptions {
  /** The account QEMU runs as (default: libvirt-qemu, root when there is none). */
  readonly qemu?: Account;
}

const SECTOR = 512;
const O_CLOEXEC = 0o2000000;

/** Where a hostDisk volume's file is: its allowed root, the directories below it, its name, and the path QEMU opens. */
interface Place {
  readonly volume: string;
  readonly path: string;
  readonly type: "Disk" | "DiskOrCreate";
  readonly root: HostDiskRoot;
  readonly dirs: readonly string[];
  readonly name: string;
  /** The file as this process (and QEMU) reaches it. */
  readonly local: string;
  /** DiskOrCreate: the capacity in bytes, whole sectors. */
  readonly bytes?: number;
}

function placeOf(volume: Volume, ctx: VolumeContext): Place {
  checkVolumeName(volume);
  const hd = volume.hostDisk;
  if (hd === undefined) throw new StorageError(volume.name, "invalid", "it has no hostDisk source");
  const problem = typeof hd.path === "string" ? hostDiskPathProblem(hd.path) : "path is not a string";
  if (problem !== null) throw new StorageError(volume.name, "invalid", `hostDisk.path ${problem}`);
  if (hd.type !== "Disk" && hd.type !== "DiskOrCreate") {
    throw new StorageError(volume.name, "invalid", `hostDisk.type "${String(hd.type)}" must be "Disk" or "DiskOrCreate"`);
  }
  const roots = ctx.hostDiskRoots ?? [];
  const dir = allowedDirFor(hd.path, roots.map((r) => r.dir));
  const root = roots.find((r) => r.dir === dir);
  if (root === undefined) throw new StorageError(volume.name, "unsafe", `hostDisk.path ${notAllowedRule(hd.path, roots.map((r) => r.dir))}`);
  const segments = relative(root.dir, hd.path).split("/");
  const name = segments.pop() as string;
  const local = join(root.at, ...segments, name);
  const place = { volume: volume.name, path: hd.path, type: hd.type, root, dirs: segments, name, local };
  if (hd.type === "Disk") {
    if (hd.capacity !== undefined) throw new StorageError(volume.name, "invalid", `hostDisk.capacity is allowed only with type "DiskOrCreate"`);
    return place;
  }
  if (hd.capacity === undefined) throw new StorageError(volume.name, "invalid", `hostDisk.capacity is required with type "DiskOrCreate"`);
  const value = parseQuantity(hd.capacity);
  if (value === null || !Number.isFinite(value)) throw new StorageError(volume.name, "invalid", `hostDisk.capacity "${hd.capacity}" is not a quantity`);
  const bytes = Math.ceil(value / SECTOR) * SECTOR;
  if (bytes <= 0) throw new StorageError(volume.name, "invalid", `hostDisk.capacity "${hd.capacity}" is not a positive size`);
  if (bytes > maxHostDiskBytes) throw new StorageError(volume.name, "invalid", `hostDisk.capacity "${hd.capacity}" is more than 2Pi`);
  return { ...place, bytes };
}

/** Opens the disk's directory (no symlink on the way) or throws the StorageError that says why not. */
function openPlaceDir(place: Place): number {
  try {
    return openDirNoSymlinks(place.root.at, place.dirs);
  } catch (error) {
    if (!(error instanceof WalkError)) throw new StorageError(place.volume, "io", `cannot open the directory of "${place.path}": ${(error as Error).message}`, { cause: error });
    const shown = error.at;
    switch (error.problem) {
      case "missing":
        throw new StorageError(place.volume, "missing", `the directory "${shown}" of hostDisk "${place.path}" does not exist; bunvirt creates no directories for host disks`, { cause: error });
      case "symlink":
        throw new StorageError(place.volume, "unsafe", `"${shown}", on the way to hostDisk "${place.path}", is a symlink; no symlink may be below the allowed directory "${place.root.dir}"`, { cause: error });
      case "elsewhere":
        throw new StorageError(place.volume, "unsafe", `the allowed directory ${error.message}; name it by its real path`, { cause: error });
      default:
        throw new StorageError(place.volume, "invalid", `${error.message}, on the way to hostDisk "${place.path}"`, { cause: error });
    }
  }
}

/** What QEMU's account may do with a file of these owner and mode bits. */
export function accessFor(s: Pick<Stats, "uid" | "gid" | "mode">, who: Account): { read: boolean; write: boolean } {
  if (who.uid === 0) return { read: true, write: true };
  const shift = s.uid === who.uid ? 6 : s.gid === who.gid || who.groups.includes(s.gid) ? 3 : 0;
  return { read: ((s.mode >> shift) & 0o4) !== 0, write: ((s.mode >> shift) & 0o2) !== 0 };
}

/** The existing file is one bunvirt may hand to QEMU; throws otherwise. Returns whether QEMU may write it. */
function checkFound(place: Place, s: Stats, qemu: Account): { writable: boolean } {
  if (s.isSymbolicLink()) throw new StorageError(place.volume, "unsafe", `hostDisk "${place.path}" is a symlink; a host disk must be the file itself`);
  if (!s.isFile()) throw new StorageError(place.volume, "invalid", `hostDisk "${place.path}" is ${describeKind(s)}; a host disk must be a regular file (a raw image)`);
  if (s.nlink !== 1) {
    throw new StorageError(place.volume, "unsafe", `hostDisk "${place.path}" has ${s.nlink} hard links; a host disk must have exactly one (a hard link could bring another file's content in)`);
  }
  const access = accessFor(s, qemu);
  if (!access.read) {
    throw new StorageError(
      place.volume,
      "invalid",
      `hostDisk "${place.path}" (owner ${s.uid}:${s.gid}, mode ${(s.mode & 0o7777).toString(8).padStart(4, "0")}) cannot be read by QEMU's user ${qemu.name} (${qemu.uid}:${qemu.gid}), and bunvirt never changes an existing host disk's owner or mode; give it to that user yourself (chown ${qemu.uid}:${qemu.gid})`,
    );
  }
  return { writable: access.write };
}

/** The first directory from "/" down to the disk's that QEMU's account cannot enter (QEMU opens the path itself). */
function checkReachable(place: Place, qemu: Account): void {
  const chain: { path: string; mode: number; uid: number; gid: number }[] = [];
  for (let d = dirname(place.local); ; d = dirname(d)) {
    const s = statSync(d);
    chain.unshift({ path: d, mode: s.mode, uid: s.uid, gid: s.gid });
    if (d === "/") break;
  }
  const blocked = firstUnsearchable(chain, qemu);
  if (blocked !== null) {
    throw new StorageError(place.volume, "invalid", `QEMU's user ${qemu.name} cannot enter "${blocked.path}" (mode ${(blocked.mode & 0o7777).toString(8).padStart(4, "0")}) on the way to hostDisk "${place.path}"`);
  }
}

type Look = { readonly kind: "found"; readonly writable: boolean } | { readonly kind: "absent"; readonly bytes: number; readonly shrunk: boolean; readonly free: number };

/** Looks at the disk through `dirFd` without writing; throws for anything unusable. */
function look(place: Place, dirFd: number, qemu: Account): Look {
  const s = lookAtIn(dirFd, place.name);
  if (s !== null) return { kind: "found", ...checkFound(place, s, qemu) };
  if (place.type === "Disk" || place.bytes === undefined) {
    throw new StorageError(place.volume, "missing", `hostDisk "${place.path}" does not exist; with type "Disk" it must (type "DiskOrCreate" creates it)`);
  }
  const fs = statfsSync(atPath(dirFd, "."));
  const free = fs.bavail * fs.bsize;
  const size = sizeToCreate(place.bytes, free);
  if (!size.ok) throw new StorageError(place.volume, "invalid", `cannot create hostDisk "${place.path}": ${size.reason}`);
  return { kind: "absent", bytes: size.bytes, shrunk: size.shrunk, free };
}

/** A temporary name for `name` in its directory (the form files.ts's tempPathFor uses). */
function tempNameFor(name: string): string {
  return `.${name}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** Creates the sparse file under a temporary name in `dirFd`, gives it to QEMU's user, publishes it without replacing anything. */
function create(place: Place, dirFd: number, bytes: number, qemu: Account): void {
  const temp = tempNameFor(place.name);
  try {
    const fd = openSync(atPath(dirFd, temp), constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | O_CLOEXEC, 0o660);
    try {
      ftruncateSync(fd, bytes);
      fchownSync(fd, qemu.uid, qemu.gid);
      fchmodSync(fd, 0o660);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(atPath(dirFd, temp), atPath(dirFd, place.name));
    } catch (error) {
      // Someone else's file appeared meanwhile: it is looked at again, never replaced.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  } catch (cause) {
    throw new StorageError(place.volume, "io", `cannot create hostDisk "${place.path}": ${(cause as Error).message}`, { cause });
  } finally {
    try {
      unlinkSync(atPath(dirFd, temp));
    } catch {
      // never made
    }
  }
}

/** True when the process named in a temporary name still runs (its prepare may be under way). */
function creatorAlive(tempName: string): boolean {
  const pid = Number(/\.tmp-(\d+)-[0-9a-f]+$/.exec(tempName)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function withDir<T>(place: Place, use: (dirFd: number) => T): T {
  const dirFd = openPlaceDir(place);
  try {
    return use(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

export function hostDiskProvider(options: HostDiskOptions = {}): VolumeProvider {
  const qemu = (): Account => options.qemu ?? qemuAccount();
  return {
    kind: "hostDisk",
    async check(volume: Volume, ctx: VolumeContext): Promise<void> {
      const place = placeOf(volume, ctx);
      withDir(place, (dirFd) => look(place, dirFd, qemu()));
      checkReachable(place, qemu());
    },
    async prepare(volume: Volume, ctx: VolumeContext): Promise<PreparedDisk> {
      const place = placeOf(volume, ctx);
      const who = qemu();
      const found = withDir(place, (dirFd) => {
        const first = look(place, dirFd, who);
        // Before anything is made: QEMU must be able to reach the file.
        checkReachable(place, who);
        if (first.kind === "found") return first;
        create(place, dirFd, first.bytes, who);
        const again = look(place, dirFd, who);
        if (again.kind !== "found") throw new StorageError(place.volume, "io", `hostDisk "${place.path}" vanished right after it was created`);
        const fields = { volume: place.volume, path: place.path, bytes: first.bytes };
        if (first.shrunk) ctx.log.warn(`created hostDisk smaller than its capacity (${place.bytes} bytes): its directory has ${first.free} bytes free, within the 10% tolerated`, fields);
        else ctx.log.info("created a sparse hostDisk", fields);
        return again;
      });
      if (!found.writable) ctx.log.warn("QEMU's user cannot write the hostDisk: the guest gets it read-only", { volume: place.volume, path: place.path });
      return { name: volume.name, kind: "hostDisk", path: place.local, format: "raw", readOnly: !found.writable, block: false, keepOwner: true };
    },
    async cleanup(volume: Volume, ctx: VolumeContext): Promise<string[]> {
      // The disk outlives the VM; only what a killed prepare left (its temporary names) goes.
      let place: Place;
      try {
        place = placeOf(volume, ctx);
      } catch {
        return [];
      }
      let dirFd: number;
      try {
        dirFd = openDirNoSymlinks(place.root.at, place.dirs);
      } catch {
        return [];
      }
      try {
        const gone: string[] = [];
        for (const n of readdirSync(atPath(dirFd, ".")).filter((x) => x.startsWith(`.${place.name}.tmp-`))) {
          if (lookAtIn(dirFd, n)?.isFile() !== true || creatorAlive(n)) continue;
          unlinkSync(atPath(dirFd, n));
          gone.push(join(dirname(place.local), n));
        }
        return gone;
      } finally {
        closeSync(dirFd);
      }
    },
  };
}
