/**
 * Restart on new settings: a role started with --config-dir polls the dir
 * and, when a key it takes from there changes (added, removed, new value),
 * logs which and ends with code 0, so the kubelet starts it again with the
 * new settings. Keys given on the command line win and are not watched.
 */
import { changedKeys, readConfigDir, type ConfigSnapshot } from "../cli/config-dir.ts";
import type { RoleContext } from "./role.ts";

export interface ConfigWatchOptions {
  dir: string;
  /** What the role started with. */
  initial: ConfigSnapshot;
  /** Keys set on the command line. */
  ignored: ReadonlySet<string>;
  /** Poll interval in ms (default 5000). */
  everyMs?: number;
}

export function watchConfigDir(ctx: Pick<RoleContext, "log" | "exit">, opts: ConfigWatchOptions): () => void {
  let failing = "";
  const timer = setInterval(() => {
    let now: ConfigSnapshot;
    try {
      now = readConfigDir(opts.dir);
    } catch (e) {
      const message = (e as Error).message;
      if (message !== failing) ctx.log.warn(`${message}; keeping the settings the role started with`);
      failing = message;
      return;
    }
    failing = "";
    const changed = changedKeys(opts.initial, now, opts.ignored);
    if (changed.length === 0) return;
    clearInterval(timer);
    ctx.log(`settings in "${opts.dir}" changed (${changed.map((k) => `"${k}"`).join(", ")}): exiting to restart with them`);
    ctx.exit(0);
  }, opts.everyMs ?? 5000);
  return () => clearInterval(timer);
}
