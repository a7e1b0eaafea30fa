/**
 * Waits for the stack's QEMU processes the moment they end.
 *
 * libvirtd starts QEMU daemonized, so QEMU's parent is whoever adopts
 * orphans: PID 1 of the PID namespace, or the nearest ancestor marked as
 * child subreaper. libvirt's destroy, and its clean-up after a guest powered
 * off, poll every 200 ms until QEMU's pid is gone, and a dead QEMU is not
 * gone until its parent waits for it: an init that waits lazily (this
 * project's test machines: 1.7-1.9 s) makes every stop that slow, and a
 * launcher that is PID 1 and never waits makes a destroy hang for 30 s.
 *
 * So the launcher becomes the subreaper and waits for exactly the pids in
 * libvirt's QEMU pid files, never for anything else: a child that Bun
 * spawned and then finds already waited for makes Bun throw (ECHILD).
 * SIGCHLD starts a sweep at once; a slow poll covers a signal Bun merged.
 */
import type { ChildWaits } from "./child-waits.ts";

export interface QemuReaperOptions {
  /** The pids in libvirtd's QEMU pid files now. */
  readonly qemuPids: () => Promise<number[]>;
  readonly waits: ChildWaits;
  readonly log: (line: string) => void;
  /** The fallback poll. Default 1 s. */
  readonly pollMs?: number;
}

export interface QemuReaper {
  /** One sweep now (also what SIGCHLD and the poll run). Resolves with the pids it waited for. */
  sweep(): Promise<number[]>;
  stop(): void;
}

/** Becomes the subreaper and starts sweeping; null (and a log line saying why) if it cannot. */
export function startQemuReaper(options: QemuReaperOptions): QemuReaper | null {
  const problem = options.waits.becomeSubreaper();
  if (problem !== null) {
    options.log(`stack: QEMU processes are left to PID 1 to wait for: ${problem}`);
    return null;
  }
  /** Pids seen in a pid file, kept until waited for: libvirt may remove the file first. */
  const known = new Set<number>();
  let running: Promise<number[]> | null = null;
  let again = false;

  const once = async (): Promise<number[]> => {
    for (const pid of await options.qemuPids()) known.add(pid);
    const reaped: number[] = [];
    for (const pid of known) {
      const outcome = options.waits.waitNoHang(pid);
      if (outcome === "running") continue;
      known.delete(pid);
      if (outcome === "reaped") {
        reaped.push(pid);
        options.log(`stack: QEMU[${pid}] ended; waited for it`);
      }
    }
    return reaped;
  };
  const sweep = async (): Promise<number[]> => {
    if (running !== null) {
      again = true;
      return running;
    }
    running = (async () => {
      const reaped: number[] = [];
      do {
        again = false;
        reaped.push(...(await once()));
      } while (again);
      return reaped;
    })().finally(() => {
      running = null;
    });
    return running;
  };
  const onSignal = (): void => {
    void sweep();
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
