/**
 * Reaching a file below a directory with no symlink anywhere on the way,
 * openat-style (KubeVirt's safepath, its CVE-2025-64324 fix): the root is
 * opened and must be its own canonical name (so no symlink leads to it); each directory
 * below it is opened relative to the descriptor of the one above
 * (`/proc/self/fd/N/NAME`, which the kernel resolves from that descriptor,
 * as openat does) with O_DIRECTORY|O_NOFOLLOW; the file itself with
 * O_PATH|O_NOFOLLOW, so a device or FIFO is looked at, never opened. A
 * directory renamed or swapped for a symlink after the walk cannot redirect
 * what the descriptors hold.
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";

// Linux's values; node:fs does not export them.
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;
const dirFlags = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | O_CLOEXEC;

export type WalkProblem = "missing" | "symlink" | "not-directory" | "elsewhere";

/** Why a walk stopped: what, and where (the path as the caller named it). */
export class WalkError extends Error {
  constructor(readonly problem: WalkProblem, readonly at: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WalkError";
  }
}

/** `name` in the directory open as `dirFd`, as a path the kernel resolves from that descriptor. */
export function atPath(dirFd: number, name: string): string {
  return `/proc/self/fd/${dirFd}/${name}`;
}

/** The kernel's own name of what `fd` holds. */
export function fdName(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`);
}

function kindOf(s: Stats): string {
  if (s.isSymbolicLink()) return "a symlink";
  if (s.isDirectory()) return "a directory";
  if (s.isBlockDevice()) return "a block device";
  if (s.isCharacterDevice()) return "a character device";
  if (s.isFIFO()) return "a FIFO";
  if (s.isSocket()) return "a socket";
  return "a regular file";
}

/** What is at `path` (relative to nothing: an O_PATH look), or null when nothing is. */
function lookAt(path: string): Stats | null {
  let fd: number;
  try {
    fd = openSync(path, O_PATH | constants.O_NOFOLLOW | O_CLOEXEC);
  } catch {
    return null;
  }
  try {
    return fstatSync(fd);
  } finally {
    closeSync(fd);
  }
}

function openDir(path: string, shown: string, flags = dirFlags): number {
  try {
    return openSync(path, flags);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new WalkError("missing", shown, `"${shown}" does not exist`, { cause });
    if (code === "ENOTDIR" || code === "ELOOP") {
      const s = lookAt(path);
      if (s?.isSymbolicLink() === true) throw new WalkError("symlink", shown, `"${shown}" is a symlink`, { cause });
      throw new WalkError("not-directory", shown, `"${shown}" is ${s === null ? "not a directory" : kindOf(s)}, not a directory`, { cause });
    }
    throw cause;
  }
}

/**
 * Opens the directory `root/segments…` (a descriptor the caller closes).
 * `root` must be an existing directory under its canonical name; every
 * segment a directory, none a symlink.
 */
export function openDirNoSymlinks(root: string, segments: readonly string[]): number {
  // The root is followed, then must be its own name: a symlink anywhere in it shows as another name.
  let fd = openDir(root, root, dirFlags & ~constants.O_NOFOLLOW);
  try {
    const name = fdName(fd);
    if (name !== root) throw new WalkError("elsewhere", root, `"${root}" is reached through a symlink: it is "${name}"`);
    let shown = root;
    for (const segment of segments) {
      shown = join(shown, segment);
      const next = openDir(atPath(fd, segment), shown);
      closeSync(fd);
      fd = next;
    }
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** What is at `name` in the directory `dirFd`, looked at without following a symlink or opening a device; null when nothing is. */
export function lookAtIn(dirFd: number, name: string): Stats | null {
  return lookAt(atPath(dirFd, name));
}

/** "a symlink", "a directory", "a block device", ...: what a refusal names. */
export const describeKind = kindOf;
