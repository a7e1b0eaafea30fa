/**
 * Cross-process lock on one cache key: a lock file created with O_EXCL
 * ("wx"), holding the owner's pid and host, touched periodically. A lock
 * whose owner is gone (same host, pid not alive) or whose file was not
 * touched for `staleAfterMs` is broken.
 */
import { hostname } from "node:os";
import { open, readFile, stat, unlink, utimes } from "node:fs/promises";
import { pidAlive } from "../../process/pid-alive.ts";

export interface LockOptions {
  readonly signal?: AbortSignal;
  /** A lock not refreshed for this long is considered abandoned (default 30 s). */
  readonly staleAfterMs?: number;
  readonly pollMs?: number;
  /** Called once when the lock is held by someone else and we start waiting. */
  readonly onWait?: (owner: string) => void;
}

export interface HeldLock {
  release(): Promise<void>;
}

const DEFAULT_STALE_MS = 30_000;
const DEFAULT_POLL_MS = 100;

async function isStale(path: string, staleAfterMs: number): Promise<{ stale: boolean; ino: number; owner: string } | null> {
  let info;
  let text = "";
  try {
    info = await stat(path);
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  let owner = text.trim();
  let stale = Date.now() - info.mtimeMs > staleAfterMs;
  try {
    const doc = JSON.parse(text) as { pid?: unknown; host?: unknown };
    if (typeof doc.pid === "number") owner = `pid ${doc.pid} on ${String(doc.host)}`;
    if (doc.host === hostname() && typeof doc.pid === "number" && doc.pid !== process.pid && !pidAlive(doc.pid)) stale = true;
  } catch {
    // Half-written by an owner that just created it: judge by age only.
  }
  return { stale, ino: info.ino, owner };
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** Creates the lock file exclusively; false when it exists. */
async function create(path: string): Promise<boolean> {
  try {
    const handle = await open(path, "wx", 0o644);
    try {
      await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return false;
  }
}

/** Removes the lock file if it is stale and still the file judged; returns its owner when it is live. */
async function breakIfStale(path: string, staleAfterMs: number): Promise<{ live: string } | null> {
  const state = await isStale(path, staleAfterMs);
  if (state === null) return null;
  if (!state.stale) return { live: state.owner };
  // Remove it only if it is still the same file we judged.
  const again = await stat(path).catch(() => null);
  if (again !== null && again.ino === state.ino) await unlink(path).catch(() => undefined);
  return null;
}

/** Waits until the lock file can be created exclusively; returns the held lock. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<HeldLock> {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_MS;
  let announced = false;
  for (;;) {
    if (options.signal?.aborted === true) throw options.signal.reason;
    if (await create(path)) break;
    const state = await breakIfStale(path, staleAfterMs);
    if (state === null) continue;
    if (!announced) {
      announced = true;
      options.onWait?.(state.live);
    }
    await sleep(options.pollMs ?? DEFAULT_POLL_MS, options.signal);
  }
  return held(path, staleAfterMs);
}

/** The lock if nobody live holds it (a stale one is broken), else null; never waits. */
export async function tryAcquireLock(path: string, options: LockOptions = {}): Promise<HeldLock | null> {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_MS;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await create(path)) return held(path, staleAfterMs);
    if ((await breakIfStale(path, staleAfterMs)) !== null) return null;
  }
  return null;
}

function held(path: string, staleAfterMs: number): HeldLock {
  const heartbeat = setInterval(() => {
    const now = new Date();
    void utimes(path, now, now).catch(() => undefined);
  }, Math.max(1000, Math.floor(staleAfterMs / 3)));
  heartbeat.unref();
  let released = false;
  return {
    release: async (): Promise<void> => {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      await unlink(path).catch(() => undefined);
    },
  };
}
