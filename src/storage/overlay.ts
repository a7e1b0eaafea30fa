/**
 * Per-VM qcow2 overlays on a read-only backing disk (ephemeral claims and
 * container disks): made under a temporary name, published last, found
 * again by a second prepare, removed at cleanup.
 */
import { rm, stat } from "node:fs/promises";
import { readDiskHeader } from "./disk-header.ts";
import { lstatOrNull, publishNoClobber, removeIfPresent, removeTempLeftovers, tempPathFor } from "./files.ts";
import { StorageError } from "./provider.ts";
import { createOverlay } from "./qemu-img.ts";

export interface OverlayOf {
  readonly volume: string;
  /** The state directory the overlay is in. */
  readonly root: string;
  /** The overlay in the state directory. */
  readonly path: string;
}

/**
 * The backing file of an overlay an earlier prepare made, or null when there
 * is none yet. With `backing`, an overlay on any other file is a conflict.
 */
export async function findOverlay(o: OverlayOf, backing?: string): Promise<string | null> {
  const entry = await lstatOrNull(o.path);
  if (entry === null) return null;
  if (!entry.isFile()) throw new StorageError(o.volume, "conflict", `"${o.path}" is in the way: it is not a regular file`);
  let header;
  try {
    header = await readDiskHeader(o.path);
  } catch (cause) {
    throw new StorageError(o.volume, "conflict", `"${o.path}" is in the way: ${(cause as Error).message}`, { cause });
  }
  if (header.format !== "qcow2" || header.backingFile === undefined) {
    throw new StorageError(o.volume, "conflict", `"${o.path}" is in the way: it is not a qcow2 overlay`);
  }
  if (backing !== undefined && header.backingFile !== backing) {
    throw new StorageError(o.volume, "conflict", `the overlay "${o.path}" is on "${header.backingFile}", not on "${backing}"`);
  }
  const there = await stat(header.backingFile).catch(() => null);
  if (there === null) throw new StorageError(o.volume, "missing", `the overlay "${o.path}" is on "${header.backingFile}", which is gone`);
  return header.backingFile;
}

/** Creates the overlay on `backing` (absolute) and publishes it; nothing is left behind on failure. */
export async function makeOverlay(o: OverlayOf, qemuImg: string, backing: string, format: "raw" | "qcow2"): Promise<void> {
  const temp = tempPathFor(o.path);
  try {
    await createOverlay(qemuImg, temp, backing, format);
    await publishNoClobber(temp, o.path);
  } catch (cause) {
    await rm(temp, { force: true });
    throw new StorageError(o.volume, "tool", `cannot create the overlay "${o.path}" on "${backing}": ${(cause as Error).message}`, { cause });
  }
  // Published by us, or by a concurrent prepare of the same volume: either way it must be on `backing`.
  await findOverlay(o, backing);
}

/** Removes the overlay and any temporary leftovers; returns what it removed. */
export async function removeOverlay(o: OverlayOf): Promise<string[]> {
  const gone = await removeTempLeftovers(o.root, o.path);
  if (await removeIfPresent(o.root, o.path)) gone.push(o.path);
  return gone;
}
