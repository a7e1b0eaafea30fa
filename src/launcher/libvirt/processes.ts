/**
 * Process facts from /proc: liveness (zombies count as dead), resident
 * memory, and which processes share a mount namespace.
 */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

/** True when `pid` exists and is neither a zombie nor dead. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X" && state !== "x";
}

/**
 * Start time of a process in clock ticks since boot (/proc/<pid>/stat field
 * 22), or null if it is gone. With the pid it identifies a process even
 * after the pid is reused.
 */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : null;
  } catch {
    return null;
  }
}

/** VmRSS of a process in KiB, or null if it is gone. */
export function rssKiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return m?.[1] ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** "mnt:[4026532177]" of a process, or null if it is gone (or a zombie). */
export function mountNamespaceOf(pid: number | "self"): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return null;
  }
}

/** Every live process in mount namespace `namespace`. */
export function namespaceMembers(namespace: string): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (mountNamespaceOf(pid) === namespace && processAlive(pid)) members.push(pid);
  }
  return members;
}

/** Whether `namespace` is the namespace of this process or of PID 1: never ours to tear down. */
export function isSharedNamespace(namespace: string): boolean {
  return namespace === mountNamespaceOf("self") || namespace === mountNamespaceOf(1);
}

/** Short command name of a process (comm), or null. */
export function processName(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return null;
  }
}
