/**
 * Runs `attempt` until it succeeds: after each failure `onFailure` hears why
 * and the next try waits the policy's backoff. The cluster connection, the
 * launcher role's start and the handler's wait for the kubelet use it.
 */
import { backoffDelay, clusterBackoff, type BackoffPolicy } from "./backoff.ts";

export interface Retrying {
  /** No further attempt starts (one under way finishes). Idempotent. */
  stop(): void;
  /** Whether stop() was called: an attempt checks it after each await. */
  readonly stopped: boolean;
}

export function retryUntil(
  attempt: (n: number, retrying: Retrying) => void | Promise<void>,
  onFailure: (error: Error, n: number) => void,
  policy: BackoffPolicy = clusterBackoff,
): Retrying {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const retrying = {
    stopped: false,
    stop(): void {
      retrying.stopped = true;
      clearTimeout(timer);
    },
  };
  const run = async (n: number): Promise<void> => {
    if (retrying.stopped) return;
    try {
      await attempt(n, retrying);
    } catch (e) {
      if (retrying.stopped) return;
      onFailure(e instanceof Error ? e : new Error(String(e)), n);
      timer = setTimeout(() => void run(n + 1), backoffDelay(n, policy));
    }
  };
  void run(0);
  return retrying;
}
