/**
 * hostDisk's rules that need no file system, shared by admission, the
 * controller (which directory to mount), `bunvirt run` and the storage
 * provider: what a hostDisk path may look like, and whether it lies below a
 * directory the operator allows. KubeVirt gates hostDisk with its HostDisk
 * feature gate; bunvirt allows it per directory, none by default
 * (CVE-2025-64324: a VM owner must not reach files outside the place meant
 * for disks).
 */
import { posix } from "node:path";
import { isWithin } from "../paths/contained.ts";

/** Linux's PATH_MAX, with its NUL. */
const maxPathBytes = 4095;
/** Linux's NAME_MAX. */
const maxNameBytes = 255;

/** Why `path` is not an acceptable hostDisk path, or null when it is. */
export function hostDiskPathProblem(path: string): string | null {
  if (!path.startsWith("/")) return `"${path}" must be an absolute path`;
  if (Buffer.byteLength(path) > maxPathBytes) return `"${path.slice(0, 32)}…" is longer than a path may be (${maxPathBytes} bytes)`;
  const segments = path.split("/").slice(1);
  if (segments.some((s) => s === "." || s === "..")) return `"${path}" must not hold "." or ".." segments`;
  if (segments.some((s) => s === "")) return `"${path}" must not hold empty segments ("//") or end with "/"`;
  if (segments.some((s) => Buffer.byteLength(s) > maxNameBytes)) return `"${path}" holds a segment longer than a file name may be (${maxNameBytes} bytes)`;
  if (segments.length < 2) return `"${path}" must name a file in a directory below "/"`;
  return null;
}

/** Why `dir` cannot be an allowed host-disk directory, or null when it can (absolute, normalized, not "/"). */
export function hostDiskDirProblem(dir: string): string | null {
  if (!dir.startsWith("/")) return `"${dir}" must be an absolute path`;
  if (dir === "/") return `"/" would allow every file of the node`;
  if (posix.normalize(dir) !== dir || dir.endsWith("/")) return `"${dir}" must be written in its plain form ("${posix.normalize(dir).replace(/(.)\/$/, "$1")}")`;
  return null;
}

/**
 * The allowed directories from a setting: a comma-separated list (ConfigMap
 * key host-disk-dirs, --host-disk-dirs) or repeated flags; empty entries are
 * dropped. Throws naming the entry and the rule.
 */
export function parseHostDiskDirs(values: readonly string[], setting: string): string[] {
  const dirs = values.flatMap((v) => v.split(",")).map((d) => d.trim()).filter((d) => d !== "");
  for (const d of dirs) {
    const problem = hostDiskDirProblem(d);
    if (problem !== null) throw new Error(`Cannot use ${setting}: ${problem}`);
  }
  return [...new Set(dirs)];
}

/** The allowed directory `path` lies strictly below (the deepest one when they nest), or null. */
export function allowedDirFor(path: string, dirs: readonly string[]): string | null {
  const below = dirs.filter((d) => d !== path && isWithin(d, path));
  return below.sort((a, b) => b.length - a.length)[0] ?? null;
}

/** How an operator allows a directory, for refusals. */
export const howToAllowHostDisks = "allow its directory with the setting host-disk-dirs of ConfigMap bunvirt-config (a comma-separated list of directories on the nodes; the controller's --host-disk-dirs), or --host-disk-dir DIR for `bunvirt run`";

/** The refusal of a path no allowed directory holds. */
export function notAllowedRule(path: string, dirs: readonly string[]): string {
  const allowed = dirs.length === 0 ? "hostDisk is off: no directory is allowed" : `allowed: ${dirs.map((d) => `"${d}"`).join(", ")}`;
  return `"${path}" is not below a directory allowed for host disks (${allowed}); ${howToAllowHostDisks}`;
}
