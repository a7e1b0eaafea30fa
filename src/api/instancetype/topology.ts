/**
 * How an instancetype's vCPUs become sockets, cores and threads, by the
 * preference's preferredCPUTopology (KubeVirt's rules): all sockets by
 * default (and for "any"), all cores or all threads, or spread — ratio cores
 * per socket (SocketsCores), ratio threads per core (CoresThreads), or two
 * threads per core and ratio cores per socket (SocketsCoresThreads).
 */
import type { PreferenceSpec } from "./preference.ts";

export interface Topology {
  sockets: number;
  cores: number;
  threads: number;
}

export type Layout = "sockets" | "cores" | "threads" | "spread";

export function layoutOf(preference: PreferenceSpec | undefined): Layout {
  const t = (preference?.cpu?.preferredCPUTopology ?? "sockets").replace(/^prefer/, "").toLowerCase();
  return t === "cores" || t === "threads" || t === "spread" ? t : "sockets";
}

export function spreadOf(preference: PreferenceSpec | undefined): { ratio: number; across: "SocketsCores" | "CoresThreads" | "SocketsCoresThreads" } {
  const options = preference?.cpu?.spreadOptions;
  return { ratio: options?.ratio ?? preference?.preferSpreadSocketToCoreRatio ?? 2, across: options?.across ?? "SocketsCores" };
}

/** vCPUs per unit of the spread layout: what the vCPU count must be a multiple of. */
export function spreadUnit(preference: PreferenceSpec | undefined): number {
  const { ratio, across } = spreadOf(preference);
  return across === "SocketsCoresThreads" ? 2 * ratio : ratio;
}

export function vcpuTopology(vcpus: number, preference: PreferenceSpec | undefined): Topology {
  const one = { sockets: 1, cores: 1, threads: 1 };
  if (vcpus === 1) return one;
  switch (layoutOf(preference)) {
    case "sockets":
      return { ...one, sockets: vcpus };
    case "cores":
      return { ...one, cores: vcpus };
    case "threads":
      return { ...one, threads: vcpus };
    case "spread": {
      const { ratio, across } = spreadOf(preference);
      if (across === "CoresThreads") return { sockets: 1, cores: vcpus / ratio, threads: ratio };
      if (across === "SocketsCoresThreads") return { sockets: vcpus / 2 / ratio, cores: ratio, threads: 2 };
      return { sockets: vcpus / ratio, cores: ratio, threads: 1 };
    }
  }
}
