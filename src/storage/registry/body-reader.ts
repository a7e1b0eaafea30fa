/**
 * Reading a response body from an untrusted server: every read() waits at
 * most the idle timeout (a body that stalls after its headers fails), and
 * whole bodies are read with a cap enforced chunk by chunk, never by
 * buffering first and measuring after.
 */
import type { ChunkSourceReader } from "./blob.ts";

export type ReadResult = Awaited<ReturnType<ChunkSourceReader["read"]>>;

/**
 * One timer per request: armed while waiting for the server, disarmed while
 * the puller works. Firing aborts the request with the error `onFire` makes.
 */
export class IdleTimer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private fired: Error | undefined;
  private readonly waiters = new Set<(error: Error) => void>();

  constructor(
    private readonly ms: number,
    private readonly onFire: () => Error,
    private readonly abort: AbortController,
  ) {}

  /** The error it fired with, if it did. */
  get error(): Error | undefined {
    return this.fired;
  }

  arm(): void {
    this.disarm();
    if (this.fired !== undefined) return;
    this.timer = setTimeout(() => {
      this.fired = this.onFire();
      for (const w of this.waiters) w(this.fired);
      this.waiters.clear();
      this.abort.abort(this.fired);
    }, this.ms);
  }

  disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs `work` with the timer armed; rejects with the timeout error when it fires first. */
  async race<T>(work: Promise<T>): Promise<T> {
    if (this.fired !== undefined) throw this.fired;
    let waiter: ((error: Error) => void) | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      waiter = reject;
      this.waiters.add(reject);
    });
    this.arm();
    try {
      return await Promise.race([work, timedOut]);
    } finally {
      this.disarm();
      if (waiter !== undefined) this.waiters.delete(waiter);
    }
  }
}

/** A body reader whose reads are bounded by the idle timer; other read failures go through `mapError`. */
export function timedReader(
  body: ReadableStream<Uint8Array> | null,
  timer: IdleTimer,
  mapError: (error: unknown) => Error,
): ChunkSourceReader {
  if (body === null) {
    return { read: async () => ({ done: true }), cancel: async () => undefined };
  }
  const inner = body.getReader();
  return {
    read: async (): Promise<ReadResult> => {
      try {
        const result = await timer.race(inner.read());
        return result.done ? { done: true } : { done: false, value: result.value };
      } catch (error) {
        if (timer.error !== undefined) {
          void inner.cancel(timer.error).catch(() => undefined);
          throw timer.error;
        }
        throw mapError(error);
      }
    },
    cancel: async (reason?: unknown): Promise<void> => {
      await inner.cancel(reason).catch(() => undefined);
    },
  };
}

/**
 * Reads a whole body of at most `max` bytes. Beyond that it stops reading,
 * cancels the body and throws `tooLarge()`: memory never holds more than
 * `max` plus one chunk.
 */
export async function readCapped(reader: ChunkSourceReader, max: number, tooLarge: () => Error): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const result = await reader.read();
    if (result.done) break;
    total += result.value.length;
    if (total > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(result.value);
  }
  return concatChunks(chunks, total);
}

/** The first `max` bytes of a body (an error page); the rest is not read. Never throws. */
export async function readPrefix(reader: ChunkSourceReader, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < max) {
      const result = await reader.read();
      if (result.done) break;
      const take = result.value.subarray(0, max - total);
      chunks.push(take);
      total += take.length;
    }
  } catch {
    // what arrived is enough for a message
  }
  await reader.cancel().catch(() => undefined);
  return concatChunks(chunks, total);
}

/** The chunks as one array of `total` bytes. */
function concatChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
