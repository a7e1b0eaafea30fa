/**
 * The percent of the imports under way, for the VM's status: without CDI the
 * importer pod has no credentials to report anything, so the controller
 * reads the tail of each running importer's log (pods/log through the API
 * server, at most 4 KiB, 5 s per request) every few seconds, as CDI's
 * controller scrapes its importer's progress. A changed percent queues the
 * VM. Nothing is written: the percent lives here, in memory, and reaches the
 * VM's status through the next reconcile.
 */
import { readPrefix } from "../../../storage/registry/body-reader.ts";
import { lastPercent } from "../../../storage/import/progress-line.ts";
import type { Logger } from "../../../log/logger.ts";
import { importerContainerName } from "./importer-pod.ts";

const tailBytes = 4096;
const requestMs = 5000;

export interface PodRef {
  namespace: string;
  name: string;
}

export interface ImportProgressOptions {
  send(path: string, init: RequestInit): Promise<Response>;
  /** The importer pods whose container is running now. */
  running(): PodRef[];
  /** The percent of this pod changed. */
  onChange(pod: PodRef): void;
  log: Logger;
  /** Default 3000. */
  intervalMs?: number;
}

const keyOf = (p: PodRef): string => `${p.namespace}/${p.name}`;

export function importerLogPath(p: PodRef): string {
  const q = new URLSearchParams({ container: importerContainerName, tailLines: "20", limitBytes: String(tailBytes) });
  return `/api/v1/namespaces/${encodeURIComponent(p.namespace)}/pods/${encodeURIComponent(p.name)}/log?${q}`;
}

export class ImportProgress {
  readonly #opts: ImportProgressOptions;
  readonly #percent = new Map<string, number>();
  readonly #warned = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #round: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(opts: ImportProgressOptions) {
    this.#opts = opts;
  }

  /** The last percent read from this importer pod's log (undefined: none yet). */
  percent(namespace: string, pod: string): number | undefined {
    return this.#percent.get(`${namespace}/${pod}`);
  }

  start(): void {
    const next = (): void => {
      if (this.#stopped) return;
      this.#timer = setTimeout(() => {
        this.#round = this.poll().finally(next);
      }, this.#opts.intervalMs ?? 3000);
    };
    next();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
  }

  /** One round: every running importer's log tail, one after another; forgets pods no longer running. */
  async poll(): Promise<void> {
    const running = this.#opts.running();
    const keys = new Set(running.map(keyOf));
    for (const k of this.#percent.keys()) if (!keys.has(k)) this.#percent.delete(k);
    for (const k of this.#warned) if (!keys.has(k)) this.#warned.delete(k);
    for (const pod of running) {
      if (this.#stopped) return;
      const percent = await this.#read(pod);
      if (percent === null || this.#percent.get(keyOf(pod)) === percent) continue;
      this.#percent.set(keyOf(pod), percent);
      this.#opts.onChange(pod);
    }
  }

  async #read(pod: PodRef): Promise<number | null> {
    const key = keyOf(pod);
    try {
      const res = await this.#opts.send(importerLogPath(pod), { signal: AbortSignal.timeout(requestMs) });
      const bytes = res.body === null ? new Uint8Array() : await readPrefix(res.body.getReader(), tailBytes);
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${new TextDecoder().decode(bytes).slice(0, 200)}`);
      this.#warned.delete(key);
      return lastPercent(new TextDecoder().decode(bytes));
    } catch (e) {
      // Once per pod until a read works again: a cluster without kubelet logs must not flood the log.
      if (!this.#warned.has(key)) this.#opts.log.warn(`Cannot read the import progress from the log of pod ${key}: ${(e as Error).message}`);
      this.#warned.add(key);
      return null;
    }
  }
}
