/**
 * A controller work queue with client-go's rules:
 * - a key waits in the queue at most once (adding it again is a no-op);
 * - a key is handed to one worker at a time: added while a worker has it, it
 *   is queued again when that worker is done, so the next pass sees the
 *   latest state;
 * - a failed key comes back after exponential backoff with jitter
 *   (src/retry/backoff.ts), growing per consecutive failure, reset on success;
 * - a key can be scheduled for later (the crash-loop backoff's requeue).
 */
import { backoffDelay, clusterBackoff, type BackoffPolicy } from "../../retry/backoff.ts";
import { realTimers, type Timers } from "./timers.ts";

export interface WorkQueueOptions {
  timers?: Timers;
  backoff?: BackoffPolicy;
  /** The random source of the backoff's jitter (default Math.random). */
  random?: () => number;
}

export class WorkQueue {
  readonly #timers: Timers;
  readonly #backoff: BackoffPolicy;
  readonly #random: () => number;
  #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #later = new Map<string, { at: number; handle: unknown }>();
  #waiters: ((key: string | undefined) => void)[] = [];
  #shutDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.#timers = opts.timers ?? realTimers;
    this.#backoff = opts.backoff ?? clusterBackoff;
    this.#random = opts.random ?? Math.random;
  }

  /** Keys waiting to be handed out. */
  get length(): number {
    return this.#queue.length;
  }

  add(key: string): void {
    if (this.#shutDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) this.#handOut(key, waiter);
    else this.#queue.push(key);
  }

  /** Adds the key after `ms`; an earlier pending time for it wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shutDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#timers.now() + ms;
    const pending = this.#later.get(key);
    if (pending !== undefined) {
      if (pending.at <= at) return;
      this.#timers.clearTimeout(pending.handle);
    }
    const handle = this.#timers.setTimeout(() => {
      this.#later.delete(key);
      this.add(key);
    }, ms);
    this.#later.set(key, { at, handle });
  }

  /** Adds the key after the backoff for its consecutive failures so far. */
  addRateLimited(key: string): void {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    this.addAfter(key, backoffDelay(n, this.#backoff, this.#random));
  }

  /** The key succeeded: its next failure starts the backoff over. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key; undefined once the queue is shut down. Call done(key) when finished with it. */
  get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#take(key);
      return Promise.resolve(key);
    }
    if (this.#shutDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (!this.#dirty.has(key) || this.#shutDown) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) this.#handOut(key, waiter);
    else this.#queue.push(key);
  }

  shutDown(): void {
    this.#shutDown = true;
    for (const { handle } of this.#later.values()) this.#timers.clearTimeout(handle);
    this.#later.clear();
    this.#queue = [];
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  #take(key: string): void {
    this.#dirty.delete(key);
    this.#processing.add(key);
  }

  #handOut(key: string, waiter: (key: string) => void): void {
    this.#take(key);
    waiter(key);
  }
}

/** What a handler may ask for after a successful pass. */
export interface HandlerResult {
  requeueAfterMs?: number;
}

export type KeyHandler = (key: string) => Promise<HandlerResult | void>;

/**
 * Runs `workers` loops that take keys and run the handler: success forgets
 * the key's failures (and requeues it when asked); an error is reported and
 * the key retried with backoff. Resolves when the queue is shut down and
 * the workers finished their current keys.
 */
export async function runWorkers(queue: WorkQueue, workers: number, handler: KeyHandler, onError: (key: string, error: unknown) => void): Promise<void> {
  const loop = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const result = await handler(key);
        queue.forget(key);
        if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      } catch (e) {
        onError(key, e);
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
}
