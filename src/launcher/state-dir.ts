/**
 * A VM's state directory, checked before anything is written or pulled
 * there: it is not a symlink (a state directory that points elsewhere would
 * make bunvirt write, and later remove, somewhere else), and QEMU, which
 * runs as its own user, can reach it through every directory on the way
 * (else libvirt fails much later with "Permission denied as uid 64055").
 */
import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Stats } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { lookupUser } from "./qemu-user.ts";

export interface Account {
  name: string;
  uid: number;
  gid: number;
  /** Supplementary groups. */
  groups: readonly number[];
}

export interface DirInfo {
  path: string;
  mode: number;
  uid: number;
  gid: number;
}

/** Group ids `user` is a listed member of, from /etc/group text. */
export function supplementaryGroups(groupText: string, user: string): number[] {
  const out: number[] = [];
  for (const line of groupText.split("\n")) {
    const f = line.split(":");
    if (f.length >= 4 && f[3]!.split(",").includes(user)) out.push(Number(f[2]));
  }
  return out;
}

/** True when `who` may search (enter) a directory with these owner and mode bits. */
export function canSearch(dir: DirInfo, who: Account): boolean {
  if (who.uid === 0) return true;
  if (dir.uid === who.uid) return (dir.mode & 0o100) !== 0;
  if (dir.gid === who.gid || who.groups.includes(dir.gid)) return (dir.mode & 0o010) !== 0;
  return (dir.mode & 0o001) !== 0;
}

/** The first directory in `chain` (from "/" down) that `who` cannot enter, or null. */
export function firstUnsearchable(chain: readonly DirInfo[], who: Account): DirInfo | null {
  return chain.find((d) => !canSearch(d, who)) ?? null;
}

/** QEMU's account as libvirt runs it (Debian: libvirt-qemu); root when there is none. */
export function qemuAccount(): Account {
  const name = "libvirt-qemu";
  const user = lookupUser(readFileSync("/etc/passwd", "utf8"), name);
  if (user === null) return { name: "root", uid: 0, gid: 0, groups: [] };
  let groups: number[] = [];
  try {
    groups = supplementaryGroups(readFileSync("/etc/group", "utf8"), name);
  } catch {
    groups = [];
  }
  return { name, ...user, groups };
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/**
 * Throws `Cannot use state directory …` when `path` is a symlink, is not a
 * directory, or (with `reachableBy`) lies below a directory that account
 * cannot enter. Reads only.
 */
export function checkStateDir(path: string, reachableBy?: Account): void {
  const abs = resolve(path);
  const fail = (why: string): never => {
    throw new Error(`Cannot use state directory "${abs}": ${why}`);
  };
  const here = lstatOrNull(abs);
  if (here?.isSymbolicLink() === true) fail(`it is a symlink (to "${readlinkSync(abs)}"); give the directory itself`);
  if (here !== null && !here.isDirectory()) fail("it exists and is not a directory");
  if (reachableBy === undefined || reachableBy.uid === 0) return;
  // The deepest part that exists, as the kernel will walk it (symlinks above the state directory are fine).
  let existing = abs;
  while (lstatOrNull(existing) === null && dirname(existing) !== existing) existing = dirname(existing);
  const real = realpathSync(existing);
  const chain: DirInfo[] = [];
  for (let p = real; ; p = dirname(p)) {
    const st = statSync(p);
    chain.unshift({ path: p, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
    if (dirname(p) === p) break;
  }
  const denied = firstUnsearchable(chain, reachableBy);
  if (denied !== null) {
    const mode = denied.mode.toString(8).padStart(4, "0");
    fail(
      `QEMU runs as "${reachableBy.name}" (uid ${reachableBy.uid}) and cannot enter "${denied.path}" (mode ${mode}, owner ${denied.uid}:${denied.gid}); ` +
        `make it searchable (chmod o+x "${denied.path}") or choose another --state-dir`,
    );
  }
}

/**
 * Creates the state directory (and missing parents) with mode 0755 whatever
 * the umask, so QEMU can enter it. Returns the first directory it created,
 * or null when the directory was there.
 */
export function makeStateDir(path: string): string | null {
  const abs = resolve(path);
  const first = mkdirSync(abs, { recursive: true, mode: 0o755 }) ?? null;
  if (first !== null) {
    const rel = abs.slice(first.length).split(sep).filter((s) => s !== "");
    let p = first;
    chmodSync(p, 0o755);
    for (const s of rel) {
      p = join(p, s);
      chmodSync(p, 0o755);
    }
  }
  return first;
}
