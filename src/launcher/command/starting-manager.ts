/**
 * The command API while the launcher starts: the socket is served before
 * the libvirt stack is up, so the handler can ask and pull the VMI's
 * container disks while libvirtd starts. Until then `status` answers that no
 * VM is there and the helpers are not ready, and `stats` that no domain
 * runs; `sync`, `shutdown` and `kill` go to the runner at once (a sync
 * prepares storage and network while the stack starts; only its domain waits
 * for the stack, and fails as the stack's start did).
 */
import { CommandError, type DomainManager } from "./command-server.ts";
import type { StatusReply } from "./schema.ts";

export const startingStatus: StatusReply = { state: "absent", reason: "the launcher is starting", interfaces: [], ready: false };

export function startingManager(runner: DomainManager, stack: Promise<unknown>): DomainManager {
  let up = false;
  let failed: string | null = null;
  stack.then(() => (up = true), (e: unknown) => (failed = (e as Error).message));
  return {
    status: async () => {
      if (up) return runner.status();
      return failed === null ? { ...startingStatus } : { ...startingStatus, reason: `the launcher failed to start: ${failed}` };
    },
    sync: (vmi) => runner.sync(vmi),
    shutdown: (graceSeconds) => runner.shutdown(graceSeconds),
    kill: () => runner.kill(),
    stats: async () => {
      if (!up) throw new CommandError(409, "no domain runs: the launcher is starting");
      return runner.stats();
    },
  };
}
