/**
 * Unix socket paths that cannot be redirected: neither the socket nor any
 * directory on its way may be a symlink (KubeVirt advisories
 * GHSA-2r4r-5x78-mvqf and CVE-2026-7374: a launcher-controlled symlink made
 * the handler act on files of the host).
 */
import { lstatSync, realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";

export function assertSocketPathSafe(path: string): void {
  const abs = resolve(path);
  const dir = dirname(abs);
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (cause) {
    throw new Error(`Cannot use socket "${abs}": its directory "${dir}" does not exist`, { cause });
  }
  if (real !== dir) throw new Error(`Cannot use socket "${abs}": its directory is reached through a symlink (it resolves to "${real}")`);
  let st;
  try {
    st = lstatSync(abs);
  } catch {
    return; // not there yet: fine for a server about to create it
  }
  if (st.isSymbolicLink()) throw new Error(`Cannot use socket "${abs}": it is a symlink`);
  if (!st.isSocket()) throw new Error(`Cannot use socket "${abs}": it exists and is not a socket`);
}
