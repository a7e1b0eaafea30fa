/**
 * Which libvirtd connection drivers a stack loads. libvirtd loads every
 * module in its driver directory (network, nwfilter, storage, nodedev, lxc,
 * libxl, vbox, … on Debian); a launcher needs only QEMU, like KubeVirt's
 * virt-launcher, which runs virtqemud. libvirt honours LIBVIRT_DRIVER_DIR,
 * so the stack points it at a directory of symlinks to just the wanted
 * modules: less memory, a faster start, and no network/firewall drivers
 * touching the host.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, rm, symlink } from "node:fs/promises";
import { join } from "node:path";

export const DEFAULT_DRIVERS: readonly string[] = ["qemu"];

const CANDIDATE_DIRS = [
  `/usr/lib/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu/libvirt/connection-driver`,
  "/usr/lib64/libvirt/connection-driver",
  "/usr/lib/libvirt/connection-driver",
];

export function driverModule(driver: string): string {
  return `libvirt_driver_${driver}.so`;
}

/** The system's libvirt connection-driver directory, or null. */
export function systemDriverDir(candidates: readonly string[] = CANDIDATE_DIRS): string | null {
  return candidates.find((dir) => existsSync(join(dir, driverModule("qemu")))) ?? null;
}

/**
 * Fills `dir` with symlinks to the wanted driver modules (replacing what
 * was there). Returns the directory to put in LIBVIRT_DRIVER_DIR, or null
 * when the system directory is unknown (libvirtd then loads all drivers).
 */
export async function prepareDriverDir(dir: string, drivers: readonly string[], systemDir = systemDriverDir()): Promise<string | null> {
  if (systemDir === null) return null;
  await mkdir(dir, { recursive: true });
  for (const entry of await readdir(dir)) await rm(join(dir, entry), { force: true });
  for (const driver of drivers) {
    if (!/^[a-z0-9_]+$/.test(driver)) throw new Error(`Cannot select libvirt driver "${driver}": not a driver name`);
    const module = join(systemDir, driverModule(driver));
    if (!existsSync(module)) throw new Error(`Cannot select libvirt driver "${driver}": "${module}" does not exist`);
    await symlink(module, join(dir, driverModule(driver)));
  }
  return dir;
}
