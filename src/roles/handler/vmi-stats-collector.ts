/**
 * On each scrape of the handler's /metrics: asks every launcher on the node
 * for its stats, at most `concurrency` at a time, each bounded by
 * `timeoutMs` (a stalled launcher costs the scrape at most that, and only
 * its own figures), and writes what came back in KubeVirt's names
 * (vmi-metrics.ts). `bunvirt_vmi_stats_up` says per VMI whether its figures
 * are in this scrape.
 */
import type { Metrics } from "../../health/metrics.ts";
import type { StatsReply } from "../../launcher/command/schema.ts";
import { writeVmiMetrics, type VmiLabels } from "./vmi-metrics.ts";

export interface StatsTarget {
  vmi: VmiLabels;
  /** Asks the VMI's launcher; must give up when `signal` aborts. */
  stats(signal: AbortSignal): Promise<StatsReply>;
}

export interface CollectOptions {
  /** Per launcher. Default 2000 ms. */
  timeoutMs?: number;
  /** Launchers asked at once. Default 8. */
  concurrency?: number;
  onError?: (vmi: VmiLabels, e: Error) => void;
}

/** The reply, or null when the launcher refused, failed or did not answer in time. */
async function ask(t: StatsTarget, timeoutMs: number, onError: CollectOptions["onError"]): Promise<StatsReply | null> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no stats within ${timeoutMs} ms`));
      abort.abort();
    }, timeoutMs);
  });
  try {
    return await Promise.race([t.stats(abort.signal), late]);
  } catch (e) {
    onError?.(t.vmi, e as Error);
    return null;
  } finally {
    clearTimeout(timer);
  }
}

export async function collectVmiStats(m: Metrics, targets: StatsTarget[], opts: CollectOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const replies: (StatsReply | null)[] = new Array<StatsReply | null>(targets.length).fill(null);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      replies[i] = await ask(targets[i]!, timeoutMs, opts.onError);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 8, targets.length) }, worker));
  targets.forEach((t, i) => {
    const reply = replies[i];
    m.set("bunvirt_vmi_stats_up", "1 when the VMI's launcher gave its stats for this scrape, else 0.", reply ? 1 : 0, { ...t.vmi });
    if (reply) writeVmiMetrics(m, t.vmi, reply);
  });
}
