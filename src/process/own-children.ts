/**
 * Every child process bunvirt starts goes through spawnOwn, so that the
 * launcher, the subreaper of its process tree (src/launcher/libvirt/
 * orphan-reaper.ts), can tell the children Bun waits for from the orphans it
 * adopted: waiting for one of Bun's own children makes Bun throw (ECHILD)
 * when it waits for it itself.
 */
const own = new Set<number>();

/** Bun.spawn, with the child recorded as Bun's until Bun has waited for it. */
export const spawnOwn = ((...args: Parameters<typeof Bun.spawn>) => {
  const proc = Bun.spawn(...args);
  own.add(proc.pid);
  void proc.exited.finally(() => own.delete(proc.pid));
  return proc;
}) as typeof Bun.spawn;

/** Whether Bun started this child and will wait for it. */
export function isOwnChild(pid: number): boolean {
  return own.has(pid);
}
