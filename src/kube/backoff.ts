/** Exponential backoff with full jitter, as Kubernetes controllers retry. */
export interface BackoffOptions {
  /** First delay in ms. Default 500. */
  baseMs?: number;
  /** Largest delay in ms. Default 30000. */
  maxMs?: number;
  /** Source of randomness in [0, 1). Default Math.random. */
  random?: () => number;
}

/** The delay before retry number `attempt` (0-based). */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? 500;
  const max = opts.maxMs ?? 30_000;
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  const r = (opts.random ?? Math.random)();
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}
