/**
 * File-system care shared by the providers: temporary names published last
 * without overwriting, leftovers of dead attempts, containment checks.
 */
import { randomBytes } from "node:crypto";
import { link, lstat, readdir, realpath, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pathUnder, removeUnder } from "../paths/index.ts";
import { StorageError } from "./provider.ts";

/** A fresh temporary name beside `final`: `.NAME.tmp-PID-RANDOM` (hidden, same directory, same file system). */
export function tempPathFor(final: string): string {
  return join(dirname(final), `.${basename(final)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** True when `name` is a temporary name made by tempPathFor for `final`. */
export function isTempFor(final: string, name: string): boolean {
  return name.startsWith(`.${basename(final)}.tmp-`);
}

export type Published = "published" | "exists";

/**
 * Publishes the complete file `temp` as `final` without ever replacing an
 * existing `final` (hard link, then unlink of the temporary name). Returns
 * "exists" when someone else's `final` was there first; `temp` is gone
 * either way.
 */
export async function publishNoClobber(temp: string, final: string): Promise<Published> {
  try {
    await link(temp, final);
    return "published";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return "exists";
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

/** Removes `.NAME.tmp-*` leftovers of `final` (an attempt that died) in `root`; returns what it removed. */
export async function removeTempLeftovers(root: string, final: string): Promise<string[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  const gone: string[] = [];
  for (const n of names.filter((x) => isTempFor(final, x))) {
    const path = pathUnder(root, n);
    if (await removeUnder(root, path)) gone.push(path);
  }
  return gone;
}

/** Removes `path`, proved to be below `root`, when it is there (never follows a symlink); true when it removed something. */
export async function removeIfPresent(root: string, path: string): Promise<boolean> {
  return removeUnder(root, path);
}

/** lstat, or null when nothing is there. */
export async function lstatOrNull(path: string): Promise<Awaited<ReturnType<typeof lstat>> | null> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** True when `inner` is `outer` or below it (both already resolved by realpath). */
export { isWithin } from "../paths/index.ts";

/** realpath, or null when the path (or a link on the way) leads nowhere. */
export async function realpathOrNull(path: string): Promise<string | null> {
  try {
    return await realpath(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") return null;
    throw error;
  }
}

/** True when `dir` exists and is a directory (following symlinks). */
export async function isDirectory(dir: string): Promise<boolean> {
  const s = await stat(dir).catch(() => null);
  return s?.isDirectory() === true;
}

/** The VM's state directory must exist before a provider puts anything there. */
export async function requireStateDir(volume: string, stateDir: string): Promise<void> {
  if (!(await isDirectory(stateDir))) {
    throw new StorageError(volume, "invalid", `the state directory "${stateDir}" does not exist or is not a directory`);
  }
}
