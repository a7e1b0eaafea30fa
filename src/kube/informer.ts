/**
 * An informer (client-go's reflector + store, trimmed): lists a resource,
 * then watches it from the list's resourceVersion with bookmarks, keeping a
 * local cache by namespace/name and calling handlers for each add, update
 * and delete.
 * - A watch that ends (the server's timeout) is reopened from the last
 *   resourceVersion seen (a bookmark counts).
 * - 410 Gone (the version was compacted away), as a status or an ERROR
 *   event, relists: the cache is replaced and the differences are reported
 *   (objects gone meanwhile as deletes).
 * - A failed list or watch is retried with backoff (src/retry/backoff.ts).
 * - Memory is bounded: a watch line longer than `maxLineBytes` is an error
 *   (the stream is dropped and relisted), never buffered on; the cache
 *   keeps no metadata.managedFields (no role reads them; on a pod they are
 *   a large part of the object), as client-go's TransformStripManagedFields.
 */
import { backoffDelay, clusterBackoff } from "../retry/backoff.ts";

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
}

export type PathFetch = (path: string, init: RequestInit) => Promise<Response>;

export interface InformerOptions<T> extends InformerHandlers<T> {
  /** The collection's path, e.g. /apis/kubevirt.io/v1/virtualmachines (all namespaces). */
  path: string;
  /** Sends a request to the API server (kubeFetch with the kubeconfig). */
  fetch: PathFetch;
  /** Set on objects that come without them (list items of built-in kinds). */
  apiVersion: string;
  kind: string;
  labelSelector?: string;
  /** e.g. `spec.nodeName=node1` (the fields the API server can select on). */
  fieldSelector?: string;
  /** Items per list page. Default 500. */
  pageSize?: number;
  /** Largest watch event line. Default 16 MiB (an object in etcd is at most 1.5 MiB, JSON-escaped). */
  maxLineBytes?: number;
  /** Seconds the server keeps one watch open. Default 300. */
  watchTimeoutSeconds?: number;
  log?: (msg: string) => void;
}

export const objectKey = (o: KubeObject): string => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;

class GoneError extends Error {}

interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KubeObject & { code?: number; message?: string };
}

export class Informer<T extends KubeObject> {
  readonly #store = new Map<string, T>();
  readonly #opts: InformerOptions<T>;
  #resourceVersion = "";
  #stopped = false;
  #abort = new AbortController();
  #synced!: () => void;
  /** Resolves once the first list is in the cache. */
  readonly synced: Promise<void>;
  #hasSynced = false;
  #running: Promise<void> | undefined;

  constructor(opts: InformerOptions<T>) {
    this.#opts = opts;
    this.synced = new Promise((resolve) => (this.#synced = resolve));
  }

  get hasSynced(): boolean {
    return this.#hasSynced;
  }

  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  list(): T[] {
    return [...this.#store.values()];
  }

  get size(): number {
    return this.#store.size;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!this.#stopped) {
      try {
        if (needList) {
          await this.#list();
          needList = false;
        }
        await this.#watch();
        failures = 0;
      } catch (e) {
        if (this.#stopped) return;
        if (e instanceof GoneError) {
          this.#opts.log?.(`${this.#opts.kind} watch: ${e.message}; relisting`);
          needList = true;
          continue;
        }
        this.#opts.log?.(`${this.#opts.kind} informer: ${(e as Error).message}; retrying`);
        // A broken stream may have missed events that the server compacted since: relist after repeated failures.
        if (failures >= 2) needList = true;
        await this.#sleep(backoffDelay(failures++, clusterBackoff));
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#abort.signal.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }

  #query(params: Record<string, string>): string {
    const q = new URLSearchParams(params);
    if (this.#opts.labelSelector !== undefined) q.set("labelSelector", this.#opts.labelSelector);
    if (this.#opts.fieldSelector !== undefined) q.set("fieldSelector", this.#opts.fieldSelector);
    return `${this.#opts.path}?${q.toString()}`;
  }

  async #send(params: Record<string, string>): Promise<Response> {
    const res = await this.#opts.fetch(this.#query(params), { headers: { accept: "application/json" }, signal: this.#abort.signal });
    if (res.status === 410) {
      await res.body?.cancel();
      throw new GoneError(`resourceVersion "${params.resourceVersion ?? ""}" is too old (410 Gone)`);
    }
    if (!res.ok) {
      const text = (await res.text()).slice(0, 500);
      throw new Error(`Cannot read "${this.#opts.path}": ${res.status} ${text}`);
    }
    return res;
  }

  #fill(o: KubeObject): T {
    delete o.metadata.managedFields;
    o.apiVersion ??= this.#opts.apiVersion;
    o.kind ??= this.#opts.kind;
    return o as T;
  }

  async #list(): Promise<void> {
    const items = new Map<string, T>();
    let cont = "";
    let rv = "";
    do {
      const params: Record<string, string> = { limit: String(this.#opts.pageSize ?? 500) };
      if (cont !== "") params.continue = cont;
      const page = (await (await this.#send(params)).json()) as { metadata?: { resourceVersion?: string; continue?: string }; items?: KubeObject[] };
      for (const item of page.items ?? []) items.set(objectKey(item), this.#fill(item));
      cont = page.metadata?.continue ?? "";
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont !== "");
    this.#replace(items);
    this.#resourceVersion = rv;
    if (!this.#hasSynced) {
      this.#hasSynced = true;
      this.#synced();
    }
  }

  /** Replaces the cache with a fresh list, reporting the differences. */
  #replace(items: Map<string, T>): void {
    for (const [key, old] of this.#store) {
      if (!items.has(key)) {
        this.#store.delete(key);
        this.#opts.onDelete?.(old);
      }
    }
    for (const [key, obj] of items) {
      const old = this.#store.get(key);
      this.#store.set(key, obj);
      if (old === undefined) this.#opts.onAdd?.(obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.#opts.onUpdate?.(old, obj);
    }
  }

  async #watch(): Promise<void> {
    const res = await this.#send({
      watch: "1",
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: "true",
      timeoutSeconds: String(this.#opts.watchTimeoutSeconds ?? 300),
    });
    if (res.body === null) return;
    const max = this.#opts.maxLineBytes ?? 16 * 1024 * 1024;
    const decoder = new TextDecoder();
    let buffered = "";
    // Leaving the loop by a throw cancels the response body (the connection is dropped).
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      // Characters, not bytes: a UTF-8 character is at least one byte, so the bound holds.
      const tooLong = (): Error => new Error(`Cannot read the ${this.#opts.kind} watch: an event line is over ${max} bytes`);
      while ((nl = buffered.indexOf("\n")) >= 0) {
        if (nl > max) throw tooLong();
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim() !== "") this.#event(JSON.parse(line) as WatchEvent);
      }
      if (buffered.length > max) throw tooLong();
    }
  }

  #event(ev: WatchEvent): void {
    if (ev.type === "ERROR") {
      if (ev.object.code === 410) throw new GoneError(ev.object.message ?? "410 Gone");
      throw new Error(`Cannot watch ${this.#opts.kind}: ${ev.object.code ?? "?"} ${ev.object.message ?? ""}`);
    }
    const rv = ev.object.metadata?.resourceVersion;
    if (rv !== undefined) this.#resourceVersion = rv;
    if (ev.type === "BOOKMARK") return;
    const obj = this.#fill(ev.object);
    const key = objectKey(obj);
    const old = this.#store.get(key);
    if (ev.type === "DELETED") {
      this.#store.delete(key);
      this.#opts.onDelete?.(obj);
      return;
    }
    this.#store.set(key, obj);
    if (old === undefined) this.#opts.onAdd?.(obj);
    else this.#opts.onUpdate?.(old, obj);
  }
}
