/**
 * The command API while the launcher starts: the socket is served before
 * the libvirt stack is up, so the handler can ask and pull the VMI's
 * container disks while libvirtd starts. Until then `status` answers that no
 * VM is there and the helpers are not ready; `sync`, `shutdown` and `kill`
 * wait for the stack and then go to the runner (or fail as the start did);
 * `stats` does not wait: no domain runs yet.
 */
import { CommandError, type DomainManager } from "./command-server.ts";
import type { StatusReply } from "./schema.ts";

export const startingStatus: StatusReply = { state: "absent", reason: "the launcher is starting", interfaces: [], ready: false };

export function startingManager(starting: Promise<DomainManager>): DomainManager {
  let started: DomainManager | null = null;
  const ready = starting.then((m) => (started = m));
  // A failed start is reported to the callers that wait for it, not as an unhandled rejection here.
  ready.catch(() => undefined);
  const wait = async (): Promise<DomainManager> => {
    try {
      return await ready;
    } catch (cause) {
      throw new Error(`Cannot run the command: the launcher failed to start (${(cause as Error).message})`, { cause });
    }
  };
  return {
    status: async () => (started !== null ? started.status() : { ...startingStatus }),
    sync: async (vmi) => (await wait()).sync(vmi),
    shutdown: async (graceSeconds) => (await wait()).shutdown(graceSeconds),
    kill: async () => (await wait()).kill(),
    stats: async () => {
      if (started === null) throw new CommandError(409, "no domain runs: the launcher is starting");
      return started.stats();
    },
  };
}
