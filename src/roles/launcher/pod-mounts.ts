/**
 * The claims and Secrets the controller mounted into this launcher pod
 * (launcher-pod.ts: `<claims>/<name>/`, `<secrets>/<name>/`), as the
 * storage providers take them. A claim's capacity is not known here: a
 * filesystem claim needs its `disk.img` already (claim-disk.ts never guesses
 * a size). An allowed host-disk directory is mounted at
 * `<hostDisks>/<its node path, URI-encoded>/` (host-disk-mounts.ts).
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { hostDiskDirProblem } from "../../api/host-disk-dirs.ts";
import type { ClaimMount, HostDiskRoot } from "../../storage/provider.ts";

/** Name → path of each directory entry under `dir` (none when `dir` is absent). */
function entries(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).filter((n) => !n.startsWith("."))) out[name] = join(dir, name);
  return out;
}

export function podMounts(paths: { claims: string; secrets: string }): { claims: Record<string, ClaimMount>; secrets: Record<string, string> } {
  const claims: Record<string, ClaimMount> = {};
  for (const [name, path] of Object.entries(entries(paths.claims))) claims[name] = { path };
  return { claims, secrets: entries(paths.secrets) };
}

/** The node directories the controller mounted for hostDisk volumes, and where they are in this pod. */
export function podHostDiskRoots(dir: string): HostDiskRoot[] {
  const out: HostDiskRoot[] = [];
  for (const [name, at] of Object.entries(entries(dir))) {
    let node: string;
    try {
      node = decodeURIComponent(name);
    } catch {
      continue;
    }
    if (hostDiskDirProblem(node) === null) out.push({ dir: node, at });
  }
  return out;
}
