/**
 * `--host-disk-dir DIR` (run, volumes): the directories hostDisk volumes may
 * use on this machine, none by default. Each must be an absolute path in its
 * plain form; the provider later refuses one reached through a symlink.
 */
import { parseHostDiskDirs } from "../api/host-disk-dirs.ts";
import type { HostDiskRoot } from "../storage/provider.ts";
import { UsageError } from "./usage.ts";

export function hostDiskRootsFlag(values: readonly string[] | undefined): HostDiskRoot[] {
  let dirs: string[];
  try {
    dirs = parseHostDiskDirs(values ?? [], "--host-disk-dir");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  // Locally the allowed directory is reached at its own path.
  return dirs.map((dir) => ({ dir, at: dir }));
}

/** The controller's `--host-disk-dirs` (ConfigMap key host-disk-dirs): a comma-separated list of node directories; unset or empty: none. */
export function hostDiskDirsFlag(value: unknown): string[] {
  if (value === undefined) return [];
  try {
    return parseHostDiskDirs([String(value)], "host-disk-dirs");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
