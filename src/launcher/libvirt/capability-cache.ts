/**
 * Seeding libvirt's QEMU capability cache. A fresh libvirtd probes QEMU once
 * (~2 s under TCG here, 30-60 s when it believes KVM is usable) before the
 * first domain starts; with the XML of an earlier probe of the same QEMU and
 * libvirt copied in, it starts at once. libvirt still validates every file
 * (binary ctimes, KVM usability, kernel version) and re-probes when stale, so
 * a wrong seed costs time, never correctness.
 *
 * Concurrency: saving writes a temporary file in the seed directory and
 * renames it, so stacks starting or saving at the same time never see a
 * half-written file.
 */
import { copyFile, mkdir, readFile, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { StackVersions } from "./versions.ts";

export const CAPABILITY_CACHE_ROOT = "/var/cache/bunvirt";

/**
 * /var/cache/bunvirt/libvirt-caps-<libvirt version>-<qemu version>, plus
 * "-drivers-<a>-<b>…" for a driver set other than QEMU alone: libvirt stamps
 * the cache with the newest ctime of the loaded driver modules
 * (<selfctime>), so a cache is only valid for the driver set that wrote it.
 */
export function defaultCapabilityCacheSeed(versions: StackVersions, drivers: readonly string[] = ["qemu"], root = CAPABILITY_CACHE_ROOT): string {
  const base = `libvirt-caps-${versions.libvirt}-${versions.qemu}`;
  const set = [...new Set(drivers)].sort();
  const suffix = set.length === 1 && set[0] === "qemu" ? "" : `-drivers-${set.join("-")}`;
  return join(root, `${base}${suffix}`);
}

async function xmlFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith(".xml")).sort();
  } catch {
    return [];
  }
}

/** Copies the seed's *.xml into the stack's cache directory; returns the file names copied. */
export async function seedCapabilityCache(seedDir: string, capabilitiesDir: string): Promise<string[]> {
  const files = await xmlFiles(seedDir);
  if (files.length === 0) return [];
  await mkdir(capabilitiesDir, { recursive: true });
  const copied: string[] = [];
  for (const file of files) {
    try {
      await copyFile(join(seedDir, file), join(capabilitiesDir, file));
      copied.push(file);
    } catch {
      // unreadable seed file: libvirt probes instead
    }
  }
  return copied;
}

async function sameContent(a: string, b: string): Promise<boolean> {
  try {
    const [x, y] = await Promise.all([readFile(a), readFile(b)]);
    return x.equals(y);
  } catch {
    return false;
  }
}

/**
 * Copies the stack's cache files that differ from the seed into the seed
 * directory (atomically); returns the names saved.
 */
export async function saveCapabilityCache(capabilitiesDir: string, seedDir: string): Promise<string[]> {
  const files = await xmlFiles(capabilitiesDir);
  const saved: string[] = [];
  for (const file of files) {
    const source = join(capabilitiesDir, file);
    const target = join(seedDir, file);
    if (await sameContent(source, target)) continue;
    await mkdir(seedDir, { recursive: true });
    const temp = join(seedDir, `.${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    try {
      await copyFile(source, temp);
      await rename(temp, target);
      saved.push(file);
    } catch (error) {
      await rm(temp, { force: true });
      throw new Error(`Cannot save the QEMU capability cache "${file}" to "${seedDir}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  return saved;
}
