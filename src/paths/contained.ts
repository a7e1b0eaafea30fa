/**
 * Paths built from names a manifest chose (a VMI's name, a volume's name)
 * stay under the directory they were meant for. `pathUnder` proves it on
 * the text before anything is created; `assertUnder` proves it on the file
 * system (no symlink on the way leads out). Every path bunvirt builds from
 * a name goes through here.
 */
import { lstatSync, realpathSync, type Stats } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

export class PathEscapeError extends Error {
  constructor(readonly root: string, readonly path: string, reason: string) {
    super(`Cannot use "${path}" under "${root}": ${reason}`);
    this.name = "PathEscapeError";
  }
}

/** Why `name` is not a single, harmless path segment, or null when it is. */
export function segmentProblem(name: string): string | null {
  if (name === "") return "a name is empty";
  if (name === "." || name === "..") return `"${name}" is not a file name`;
  if (name.includes("/")) return `"${name}" holds a "/"`;
  if (name.includes("\0")) return "a name holds a NUL character";
  if (Buffer.byteLength(name) > 255) return `"${name.slice(0, 32)}…" is longer than a file name may be (255 bytes)`;
  return null;
}

/** True when `inner` is `outer` or below it (both absolute and normalized). */
export function isWithin(outer: string, inner: string): boolean {
  if (inner === outer) return true;
  const prefix = outer.endsWith(sep) ? outer : `${outer}${sep}`;
  return inner.startsWith(prefix);
}

/**
 * `root/names…`, each name exactly one path segment; throws PathEscapeError
 * otherwise. Pure: touches no file.
 */
export function pathUnder(root: string, ...names: string[]): string {
  const base = resolve(root);
  for (const n of names) {
    const problem = segmentProblem(n);
    if (problem !== null) throw new PathEscapeError(base, join(base, ...names.map((x) => x.replace(/\0/g, "\\0"))), problem);
  }
  const out = join(base, ...names);
  const rel = relative(base, out);
  if (names.length > 0 && (rel === "" || rel.startsWith("..") || isAbsolute(rel))) {
    throw new PathEscapeError(base, out, "it would leave the directory");
  }
  return out;
}

/**
 * Proves on the file system that `path` (there or not yet) stays under
 * `root`: no part of it below `root` is a symlink, and what exists of it
 * resolves inside `root`'s real path.
 */
export function assertUnder(root: string, path: string): void {
  const base = resolve(root);
  const target = resolve(path);
  if (!isWithin(base, target)) throw new PathEscapeError(base, target, "it is not below it");
  const realRoot = realpathOrNull(base);
  if (realRoot === null) return; // nothing exists yet: nothing can lead out
  const chain: string[] = [];
  for (let p = target; p !== base && isWithin(base, p); p = dirname(p)) chain.unshift(p);
  for (const p of chain) {
    const st = lstatOrNull(p);
    if (st === null || st === undefined) return; // the rest is not there yet
    if (st.isSymbolicLink()) throw new PathEscapeError(base, target, `"${p}" is a symlink`);
    const real = realpathOrNull(p);
    if (real !== null && !isWithin(realRoot, real)) throw new PathEscapeError(base, target, `"${p}" resolves to "${real}", outside "${realRoot}"`);
  }
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

function realpathOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}
