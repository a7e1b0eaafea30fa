/**
 * The CPUs this process may run on, from the kernel's `Cpus_allowed_list`
 * in /proc/self/status: in a pod, the cpuset the kubelet gave the
 * container (with the static CPU manager, a guaranteed pod's own CPUs).
 */
import { readFileSync } from "node:fs";

/** A kernel CPU list such as "0-3,8,10-11" as ascending CPU numbers; null when it is not one. */
export function parseCpuList(text: string): number[] | null {
  const out = new Set<number>();
  const t = text.trim();
  if (t === "") return [];
  for (const part of t.split(",")) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    if (m === null) return null;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to - from > 65_536) return null;
    for (let cpu = from; cpu <= to; cpu++) out.add(cpu);
  }
  return [...out].sort((a, b) => a - b);
}

export function allowedCpusOf(status: string): number[] | null {
  const line = /^Cpus_allowed_list:\s*(.*)$/m.exec(status);
  return line === null ? null : parseCpuList(line[1]!);
}

export function allowedCpus(): number[] {
  const cpus = allowedCpusOf(readFileSync("/proc/self/status", "utf8"));
  if (cpus === null) throw new Error("Cannot read the CPUs this process may use: /proc/self/status has no readable Cpus_allowed_list");
  return cpus;
}
