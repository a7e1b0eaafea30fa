/**
 * What a node leaves on the host if torn down badly: processes in its mount
 * namespace, the kubelet's `kubepods` cgroups. Used by the node's stop() and
 * by the tests that prove it left nothing.
 */
import { type Dirent, existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync } from "node:fs";
import { join } from "node:path";

/** The inode of a process's namespace ("net:[…]"), or null when it is gone. */
export function nsOf(pid: number, kind: "net" | "mnt"): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return null;
  }
}

/** Pids (other than `except`) whose mount namespace is `mnt`. */
export function processesIn(mnt: string, except = -1): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => p !== except && nsOf(p, "mnt") === mnt);
}

/** The kubelet's cgroups on every v1 hierarchy (and the unified one). */
export function kubepodsCgroups(): string[] {
  const rootDir = "/sys/fs/cgroup";
  if (!existsSync(rootDir)) return [];
  return readdirSync(rootDir).flatMap((h) => {
    try {
      return readdirSync(join(rootDir, h))
        .filter((e) => e.startsWith("kubepods"))
        .map((e) => join(rootDir, h, e));
    } catch {
      return [];
    }
  });
}

/** Pids in the kubelet's cgroups (containers: they have mount namespaces of their own). */
export function kubepodsProcesses(): number[] {
  const pids = new Set<number>();
  const walk = (dir: string): void => {
    let entries: Dirent[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name === "cgroup.procs") {
        for (const p of readFileSync(join(dir, e.name), "utf8").split("\n")) if (p !== "") pids.add(Number(p));
      }
    }
  };
  for (const c of kubepodsCgroups()) walk(c);
  return [...pids];
}

export function removeCgroupTree(path: string): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return;
  }
  for (const e of entries) removeCgroupTree(join(path, e));
  try {
    rmdirSync(path);
  } catch {
    // Still busy (a process left): stop() reports what remains.
  }
}

/** SIGKILL, quietly when the process is already gone. */
export function kill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
