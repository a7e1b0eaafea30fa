/**
 * Restart policy for the stack's daemons: exponential backoff from 100 ms,
 * doubling, capped at 30 s. A daemon that stayed up for a minute is
 * considered healthy again and restarts from the first step. Pure.
 */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
  /** Uptime after which the failure count resets. */
  readonly resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, factor: 2, maxMs: 30_000, resetAfterMs: 60_000 };

/** Delay before restart number `attempt` (0 = first restart after a failure). */
export function restartDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (!Number.isFinite(attempt) || attempt < 0) return policy.initialMs;
  const delay = policy.initialMs * policy.factor ** Math.floor(attempt);
  return Math.min(policy.maxMs, delay);
}

/**
 * Consecutive failures to count after an exit: a daemon that ran for
 * `resetAfterMs` starts over from the first (shortest) delay.
 */
export function failuresAfterExit(previousFailures: number, uptimeMs: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  return uptimeMs >= policy.resetAfterMs ? 0 : previousFailures;
}
