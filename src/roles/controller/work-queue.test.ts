import { describe, expect, test } from "bun:test";
import { Expectations } from "./expectations.ts";
import type { Timers } from "./timers.ts";
import { runWorkers, WorkQueue } from "./work-queue.ts";

/** A clock moved by hand: timers fire in order of their due time when advance() passes them. */
class ManualTimers implements Timers {
  #now = 0;
  #next = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  get pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.#now).sort((a, b) => a - b);
  }
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
    }
    this.#now = until;
  }
}

/** A promise resolved from outside. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe("WorkQueue", () => {
  test("a key waits in the queue once however often it is added", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
  });

  test("a key added while a worker has it is not handed to another worker, then comes back once", async () => {
    const q = new WorkQueue();
    q.add("a");
    const first = await q.get();
    q.add("a");
    q.add("a");
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await settle();
    expect(second).toBeUndefined();
    q.done(first!);
    await settle();
    expect(second).toBe("a");
    expect(q.length).toBe(0);
  });

  test("failures back off exponentially (src/retry/backoff.ts) and success resets them", () => {
    const timers = new ManualTimers();
    const q = new WorkQueue({ timers, backoff: { initialMs: 100, factor: 2, maxMs: 1000, jitter: 0.5 }, random: () => 1 });
    q.addRateLimited("a");
    expect(timers.pending).toEqual([100]);
    timers.advance(100);
    expect(q.length).toBe(1);
    void q.get();
    q.done("a");
    q.addRateLimited("a");
    q.addRateLimited("a");
    // The earlier of two pending times wins.
    expect(timers.pending).toEqual([200]);
    expect(q.failures("a")).toBe(3);
    q.forget("a");
    expect(q.failures("a")).toBe(0);
  });

  test("addAfter adds when the time comes; shutDown drops pending timers and releases waiting workers", async () => {
    const timers = new ManualTimers();
    const q = new WorkQueue({ timers });
    q.addAfter("a", 5000);
    timers.advance(4999);
    expect(q.length).toBe(0);
    timers.advance(1);
    expect(q.length).toBe(1);
    await q.get();
    q.addAfter("b", 10);
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    expect(timers.pending).toEqual([]);
  });
});

describe("runWorkers", () => {
  test("two workers, one key at a time per key; errors retried with backoff; requeue on request", async () => {
    const timers = new ManualTimers();
    const q = new WorkQueue({ timers, backoff: { initialMs: 1000, factor: 2, maxMs: 1000, jitter: 0.5 }, random: () => 1 });
    const active = new Set<string>();
    let overlap = false;
    const seen: string[] = [];
    const gates: Record<string, ReturnType<typeof gate>> = { a: gate(), b: gate() };
    let failB = true;
    const errors: string[] = [];
    const done = runWorkers(q, 2, async (key) => {
      if (active.has(key)) overlap = true;
      active.add(key);
      seen.push(key);
      await gates[key]?.promise;
      active.delete(key);
      if (key === "b" && failB) {
        failB = false;
        throw new Error("Cannot create the pod: conflict");
      }
      return key === "c" ? { requeueAfterMs: 7000 } : undefined;
    }, (key, e) => errors.push(`${key}: ${(e as Error).message}`));
    q.add("a");
    q.add("b");
    await settle();
    expect(seen).toEqual(["a", "b"]);
    q.add("a"); // while a worker has "a": waits for it
    await settle();
    expect(seen).toEqual(["a", "b"]);
    gates.a!.open();
    await settle();
    expect(seen).toEqual(["a", "b", "a"]);
    gates.b!.open();
    await settle();
    expect(errors).toEqual(["b: Cannot create the pod: conflict"]);
    expect(timers.pending).toEqual([1000]);
    timers.advance(1000);
    await settle();
    expect(seen).toEqual(["a", "b", "a", "b"]);
    q.add("c");
    await settle();
    expect(timers.pending).toEqual([7000]);
    expect(overlap).toBe(false);
    q.shutDown();
    await done;
  });
});

describe("Expectations", () => {
  test("a create awaited holds the key back until observed", () => {
    const e = new Expectations({ now: () => 0 });
    expect(e.satisfied("ns/vm1")).toBe(true);
    e.expectCreations("ns/vm1");
    expect(e.satisfied("ns/vm1")).toBe(false);
    expect(e.pending("ns/vm1")).toEqual({ creates: true, deletes: false });
    e.creationObserved("ns/vm1");
    expect(e.satisfied("ns/vm1")).toBe(true);
    e.creationObserved("ns/vm1");
    expect(e.pending("ns/vm1").creates).toBe(false);
  });

  test("deletions are tracked by name", () => {
    const e = new Expectations({ now: () => 0 });
    e.expectDeletions("ns/vm1", ["vm1"]);
    e.deletionObserved("ns/vm1", "other");
    expect(e.pending("ns/vm1")).toEqual({ creates: false, deletes: true });
    e.deletionObserved("ns/vm1", "vm1");
    expect(e.satisfied("ns/vm1")).toBe(true);
  });

  test("a record expires after its TTL so a lost event cannot block a key forever", () => {
    let now = 0;
    const e = new Expectations({ now: () => now }, 60_000);
    e.expectCreations("k");
    now = 60_000;
    expect(e.satisfied("k")).toBe(false);
    now = 60_001;
    expect(e.satisfied("k")).toBe(true);
  });

  test("a slow cache never yields a second create: the reconcile loop sees the expectation", () => {
    // The loop of a VM controller: create when the cache shows no VMI and nothing is awaited.
    const e = new Expectations({ now: () => 0 });
    const cache = new Set<string>();
    let creates = 0;
    const reconcile = (): void => {
      if (cache.has("vm1") || !e.satisfied("ns/vm1")) return;
      e.expectCreations("ns/vm1");
      creates++;
    };
    reconcile();
    reconcile(); // the watch event has not arrived yet
    reconcile();
    cache.add("vm1");
    e.creationObserved("ns/vm1");
    reconcile();
    expect(creates).toBe(1);
  });
});
