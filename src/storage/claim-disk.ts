/**
 * Finding (and, for a writable filesystem-mode claim, creating) the disk of
 * a PersistentVolumeClaim, as KubeVirt lays it out: block mode is the
 * device itself; filesystem mode is `disk.img` at the root of the claim's
 * mount. `disk.img` is never followed out of the claim (KubeVirt advisory
 * GHSA-qw6q-3pgr-5cwq), never overwritten, and its format is read from its
 * content.
 */
import { constants } from "node:fs";
import { open, readlink, rm, stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import { readDiskHeader } from "./disk-header.ts";
import { isWithin, lstatOrNull, publishNoClobber, realpathOrNull, tempPathFor } from "./files.ts";
import { StorageError, type ClaimMount, type VolumeContext } from "./provider.ts";

export const claimDiskName = "disk.img";
/** KubeVirt aligns a created disk.img down to whole MiB. */
const ALIGN = 1024 * 1024;

export interface ClaimDisk {
  readonly path: string;
  readonly format: "raw" | "qcow2";
  readonly block: boolean;
}

/** What is there for a claim, found without writing anything. */
export type ClaimPlan =
  | { readonly kind: "found"; readonly disk: ClaimDisk }
  | { readonly kind: "create"; readonly root: string; readonly path: string; readonly bytes: number };

export interface ClaimUse {
  /** The volume, for error messages. */
  readonly volume: string;
  readonly claimName: string;
  /** May a missing disk.img be created (a persistent use; not when read-only)? */
  readonly create: boolean;
  readonly readOnly: boolean;
}

function mountOf(use: ClaimUse, ctx: VolumeContext): ClaimMount {
  const mount = ctx.claims[use.claimName];
  if (mount === undefined) {
    const known = Object.keys(ctx.claims);
    throw new StorageError(use.volume, "missing", `claim "${use.claimName}" is not mounted in this pod (mounted claims: ${known.length === 0 ? "none" : known.map((k) => `"${k}"`).join(", ")})`);
  }
  return mount;
}

/** Looks at the claim and says what prepare would do; throws StorageError for anything unusable. */
export async function planClaimDisk(use: ClaimUse, ctx: VolumeContext): Promise<ClaimPlan> {
  const mount = mountOf(use, ctx);
  const info = await stat(mount.path).catch((cause: NodeJS.ErrnoException) => {
    throw new StorageError(use.volume, "missing", `the mount "${mount.path}" of claim "${use.claimName}" is not there (${cause.code ?? cause.message})`, { cause });
  });
  if (info.isBlockDevice()) return { kind: "found", disk: { path: mount.path, format: "raw", block: true } };
  if (!info.isDirectory()) {
    throw new StorageError(use.volume, "invalid", `the mount "${mount.path}" of claim "${use.claimName}" is neither a directory nor a block device`);
  }
  const root = await realpathOrNull(mount.path);
  if (root === null) throw new StorageError(use.volume, "missing", `the mount "${mount.path}" of claim "${use.claimName}" is not there`);
  const named = join(root, claimDiskName);
  const entry = await lstatOrNull(named);
  if (entry === null) return planCreate(use, mount, root, named);
  let path = named;
  if (entry.isSymbolicLink()) {
    const target = await realpathOrNull(named);
    const text = await readlink(named).catch(() => "?");
    if (target === null) {
      throw new StorageError(use.volume, "unsafe", `"${named}" is a symlink to "${text}", which leads nowhere; refusing to create or follow it`);
    }
    if (!isWithin(root, target)) {
      throw new StorageError(use.volume, "unsafe", `"${named}" is a symlink to "${text}", outside the claim directory "${root}"; refusing to follow it`);
    }
    path = target;
  }
  let header;
  try {
    header = await readDiskHeader(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === "ELOOP" ? "it became a symlink while being opened" : (cause as Error).message;
    throw new StorageError(use.volume, code === "ELOOP" ? "unsafe" : "invalid", `cannot read "${named}": ${why}`, { cause });
  }
  if (header.backingFile !== undefined) {
    throw new StorageError(use.volume, "unsafe", `"${named}" is a qcow2 with the backing file "${header.backingFile}"; a claim's disk must stand alone`);
  }
  if (header.externalDataFile === true) {
    throw new StorageError(use.volume, "unsafe", `"${named}" is a qcow2 with an external data file; a claim's disk must stand alone`);
  }
  return { kind: "found", disk: { path, format: header.format, block: false } };
}

function planCreate(use: ClaimUse, mount: ClaimMount, root: string, path: string): ClaimPlan {
  if (!use.create) throw new StorageError(use.volume, "missing", `claim "${use.claimName}" holds no ${claimDiskName} at "${path}"`);
  if (use.readOnly) {
    throw new StorageError(use.volume, "missing", `claim "${use.claimName}" holds no ${claimDiskName} at "${path}", and it is read-only, so none can be created`);
  }
  if (mount.capacity === undefined) {
    throw new StorageError(use.volume, "invalid", `claim "${use.claimName}" holds no ${claimDiskName} and its capacity is unknown; give the claim's size with its mount to create one`);
  }
  const bytes = Math.floor(mount.capacity / ALIGN) * ALIGN;
  if (!Number.isSafeInteger(bytes) || bytes < ALIGN) {
    throw new StorageError(use.volume, "invalid", `claim "${use.claimName}" has a capacity of ${mount.capacity} bytes; at least 1Mi is needed for a ${claimDiskName}`);
  }
  return { kind: "create", root, path, bytes };
}

/** Creates a sparse raw disk.img of `bytes` under a temporary name and publishes it without overwriting. */
async function createDiskImg(use: ClaimUse, plan: Extract<ClaimPlan, { kind: "create" }>, ctx: VolumeContext): Promise<void> {
  const free = await statfs(plan.root).then((s) => s.bavail * s.bsize).catch(() => null);
  if (free !== null && free < plan.bytes) {
    ctx.log.warn("claim has less free space than its disk's size; the sparse disk.img can fill it", { volume: use.volume, claim: use.claimName, bytes: plan.bytes, free });
  }
  const temp = tempPathFor(plan.path);
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o660);
    try {
      await handle.truncate(plan.bytes);
    } finally {
      await handle.close();
    }
    await publishNoClobber(temp, plan.path);
  } catch (cause) {
    await rm(temp, { force: true });
    throw new StorageError(use.volume, "io", `cannot create "${plan.path}": ${(cause as Error).message}`, { cause });
  }
  ctx.log.info("created a sparse disk.img in the claim", { volume: use.volume, claim: use.claimName, path: plan.path, bytes: plan.bytes });
}

/** The claim's disk, created first when the plan says so (or found, when another creator won the race). */
export async function claimDisk(use: ClaimUse, ctx: VolumeContext): Promise<ClaimDisk> {
  const plan = await planClaimDisk(use, ctx);
  if (plan.kind === "found") return plan.disk;
  await createDiskImg(use, plan, ctx);
  const again = await planClaimDisk({ ...use, create: false }, ctx);
  if (again.kind !== "found") throw new StorageError(use.volume, "io", `"${plan.path}" vanished right after it was created`);
  return again.disk;
}
