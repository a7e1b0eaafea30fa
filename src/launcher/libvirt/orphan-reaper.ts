/**
 * Waits for the orphans the launcher adopts, the moment they end.
 *
 * libvirtd starts QEMU daemonized (the domain's, and the ones it probes for
 * capabilities), so QEMU's parent is whoever adopts orphans: PID 1 of the PID
 * namespace, or the nearest ancestor marked as child subreaper. libvirt
 * polls every 200 ms until a QEMU it killed, or one that exited, is gone, and
 * a dead process is not gone until its parent waits for it: an init that
 * waits lazily (this project's test machines: 1.7-1.9 s) makes every stop
 * that slow, and one that never waits makes libvirt give up after 30 s.
 *
 * So the launcher becomes the subreaper and, on SIGCHLD (and a slow poll, for
 * a signal Bun merged), waits for each child that Bun did not start
 * (src/process/own-children.ts): a child Bun started and then finds already
 * waited for makes Bun throw (ECHILD).
 */
import { readdirSync, readFileSync } from "node:fs";
import { isOwnChild } from "../../process/own-children.ts";
import type { ChildWaits } from "./child-waits.ts";
import { processName } from "./processes.ts";

export interface OrphanReaperOptions {
  readonly waits: ChildWaits;
  readonly log: (line: string) => void;
  /** This process's children now. Default: from /proc. */
  readonly children?: () => number[];
  /** Whether Bun waits for this child itself. Default: isOwnChild. */
  readonly own?: (pid: number) => boolean;
  /** The fallback poll. Default 1 s. */
  readonly pollMs?: number;
}

export interface OrphanReaper {
  /** One sweep now (also what SIGCHLD and the poll run). Returns the pids it waited for. */
  sweep(): number[];
  stop(): void;
}

/** This process's children: each thread's /proc list, else every process whose parent is this one. */
export function childrenOfSelf(): number[] {
  const pids = new Set<number>();
  try {
    for (const task of readdirSync("/proc/self/task")) {
      for (const p of readFileSync(`/proc/self/task/${task}/children`, "utf8").split(" ")) if (p.trim() !== "") pids.add(Number(p));
    }
    return [...pids];
  } catch {
    // a kernel without CONFIG_PROC_CHILDREN
  }
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid) pids.add(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return [...pids];
}

/** Becomes the subreaper and starts sweeping; null (and a log line saying why) if it cannot. */
export function startOrphanReaper(options: OrphanReaperOptions): OrphanReaper | null {
  const problem = options.waits.becomeSubreaper();
  if (problem !== null) {
    options.log(`stack: orphaned processes (QEMU) are left to PID 1 to wait for: ${problem}`);
    return null;
  }
  const children = options.children ?? childrenOfSelf;
  const own = options.own ?? isOwnChild;
  const sweep = (): number[] => {
    const reaped: number[] = [];
    for (const pid of children()) {
      if (own(pid)) continue;
      const name = processName(pid) ?? "process";
      if (options.waits.waitNoHang(pid) !== "reaped") continue;
      reaped.push(pid);
      options.log(`stack: ${name}[${pid}] ended; waited for it`);
    }
    return reaped;
  };
  const onSignal = (): void => {
    sweep();
  };
  process.on("SIGCHLD", onSignal);
  const timer = setInterval(onSignal, options.pollMs ?? 1_000);
  timer.unref();
  return {
    sweep,
    stop: () => {
      process.off("SIGCHLD", onSignal);
      clearInterval(timer);
    },
  };
}
