/**
 * The node cache does not grow forever: every hour (and a minute after the
 * handler starts) the container disks that no pull has used for
 * `--disk-cache-keep` seconds (default a week) are removed. Safe while VMs
 * run: each launcher pod reads its own copy, never the node cache's
 * (container-disks.ts); a disk removed here is pulled again when a VMI
 * next asks for it.
 */
import { DiskCache } from "../../storage/registry/index.ts";
import type { Logger } from "../../log/logger.ts";

export const defaultKeepSeconds = 7 * 24 * 3600;

export interface NodeCachePrune {
  stop(): Promise<void>;
}

export function startNodeCachePrune(opts: { dir: string; keepSeconds: number; log: Logger; firstMs?: number; everyMs?: number }): NodeCachePrune {
  const cache = new DiskCache(opts.dir);
  let round: Promise<void> = Promise.resolve();
  const prune = (): void => {
    round = round.then(async () => {
      try {
        const removed = await cache.prune(opts.keepSeconds * 1000);
        if (removed.length > 0) opts.log(`node cache: removed ${removed.length} container disk(s) unused for ${opts.keepSeconds} s: ${removed.join(", ")}`);
      } catch (e) {
        opts.log.warn(`node cache: cannot prune "${opts.dir}": ${(e as Error).message}`);
      }
    });
  };
  const first = setTimeout(prune, opts.firstMs ?? 60_000);
  const every = setInterval(prune, opts.everyMs ?? 3600_000);
  first.unref();
  every.unref();
  return {
    async stop(): Promise<void> {
      clearTimeout(first);
      clearInterval(every);
      await round;
    },
  };
}
