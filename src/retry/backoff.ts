/**
 * Exponential backoff with jitter: the one retry policy of bunvirt. The
 * cluster connection and the launcher role retry with it, the libvirt stack
 * restarts its daemons and waits for libvirtd with it. Pure: the random
 * source is a parameter.
 *
 * The delay before retry `attempt` (0 = the first retry) is drawn uniformly
 * from [ceiling × (1 − jitter), ceiling], where
 * ceiling = min(maxMs, initialMs × factor^attempt). With jitter 0.5 ("equal
 * jitter", bunvirt's policies) a retry waits at least half the ceiling, so it
 * never comes at once, and clients that failed together spread over the
 * other half instead of retrying in step.
 */
export interface BackoffPolicy {
  /** The ceiling of the first delay, in ms. */
  readonly initialMs: number;
  /** How much the ceiling grows per attempt. */
  readonly factor: number;
  /** The largest ceiling, in ms. */
  readonly maxMs: number;
  /** The random share of each delay: 0 none, 0.5 equal jitter, 1 full jitter (0 to 1). */
  readonly jitter: number;
}

/** A process kept running: its backoff, and the uptime after which it counts as healthy again. */
export interface RestartPolicy extends BackoffPolicy {
  /** A run that lasted this long (ms) resets the failure count: the next restart waits the shortest delay. */
  readonly resetAfterMs: number;
}

/** Kubernetes API calls and the launcher role's start: 250-500 ms, doubling to 15-30 s. */
export const clusterBackoff: BackoffPolicy = { initialMs: 500, factor: 2, maxMs: 30_000, jitter: 0.5 };

/** The libvirt stack's daemons: 50-100 ms, doubling to 15-30 s; healthy after a minute up. */
export const daemonRestarts: RestartPolicy = { initialMs: 100, factor: 2, maxMs: 30_000, jitter: 0.5, resetAfterMs: 60_000 };

/**
 * The delay in ms before retry number `attempt` (0-based; not a whole number
 * ≥ 0 counts as 0). `random` returns a number in [0, 1) (default Math.random).
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const n = Number.isFinite(attempt) && attempt > 0 ? Math.floor(attempt) : 0;
  const ceiling = Math.min(policy.maxMs, policy.initialMs * policy.factor ** n);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling * (1 - jitter + jitter * r));
}

/** Consecutive failures to count after an exit: a run of `resetAfterMs` or more starts over at 0. */
export function failuresAfterExit(previousFailures: number, uptimeMs: number, policy: RestartPolicy): number {
  return uptimeMs >= policy.resetAfterMs ? 0 : previousFailures;
}
