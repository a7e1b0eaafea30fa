/**
 * The one way bunvirt removes files and directories: only what is proved to
 * be strictly below a directory bunvirt owns (its state or cache root), and
 * never by following a symlink (a symlink is removed itself).
 */
import { lstat, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { assertUnder, PathEscapeError } from "./contained.ts";

/**
 * Removes `path` (recursively when it is a directory) after proving it is
 * strictly below `root`; returns false when nothing was there.
 */
export async function removeUnder(root: string, path: string): Promise<boolean> {
  const base = resolve(root);
  const target = resolve(path);
  if (target === base) throw new PathEscapeError(base, target, "a directory is never removed through its own root");
  // The directories on the way are proved; the last part may be a symlink: rm removes the link, never its target.
  assertUnder(base, dirname(target));
  try {
    await lstat(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  await rm(target, { recursive: true, force: true });
  return true;
}
