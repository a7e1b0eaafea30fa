/**
 * Lease-based leader election (coordination.k8s.io/v1), as Kubernetes
 * controllers do it. The decision is a pure function of the lease, the
 * clock and our identity; the loop around it does the I/O.
 */
import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import { makeApiClient } from "./api-client.ts";

export interface LeaseView {
  holder?: string;
  renewedAt?: Date;
  durationSeconds?: number;
}

export type Decision = "renew" | "acquire" | "follow";

/** What to do with a lease: renew ours, take an expired or empty one, or follow its holder. */
export function decide(lease: LeaseView | null, now: Date, identity: string): Decision {
  if (lease === null || lease.holder === undefined || lease.holder === "") return "acquire";
  if (lease.holder === identity) return "renew";
  const renewed = lease.renewedAt?.getTime() ?? 0;
  const ttl = (lease.durationSeconds ?? 15) * 1000;
  return now.getTime() > renewed + ttl ? "acquire" : "follow";
}

export interface ElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** Seconds a lease stays valid without renewal. Default 15. */
  leaseSeconds?: number;
  /** Seconds between attempts. Default 2. */
  retrySeconds?: number;
  /** Called when we start or stop leading, and when the holder we follow changes. */
  onChange: (leading: boolean, holder: string | undefined) => void;
}

function view(lease: V1Lease): LeaseView {
  const renew = lease.spec?.renewTime;
  return {
    holder: lease.spec?.holderIdentity,
    renewedAt: renew === undefined ? undefined : new Date(renew as unknown as string),
    durationSeconds: lease.spec?.leaseDurationSeconds,
  };
}

export interface Election {
  /** Stops renewing and acquiring. */
  stop(): void;
  /**
   * Hands the Lease back when this replica holds it (holder "", 1 s), so a
   * standby takes over at its next retry instead of waiting out the lease.
   * Call only after stop() and after the work the Lease guards has stopped;
   * it waits for an attempt still under way (after stop() none reports).
   */
  release(): Promise<void>;
}

export function runLeaderElection(kc: KubeConfig, opts: ElectionOptions): Election {
  const api = makeApiClient(kc, CoordinationV1Api);
  const leaseSeconds = opts.leaseSeconds ?? 15;
  let leading = false;
  // The holder last reported; null before the first report, so a standby says whom it follows.
  let reported: string | undefined | null = null;
  let stopped = false;
  // Whether our last write holds the Lease (also after stop(), when nothing is reported any more).
  let holding = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // The attempt under way: release() waits for it, so a renewal that lands after stop() is handed back too.
  let inflight: Promise<void> = Promise.resolve();
  const report = (now: boolean, holder: string | undefined): void => {
    if (stopped) return;
    if (now !== leading || holder !== reported) {
      leading = now;
      reported = holder;
      opts.onChange(now, holder);
    }
  };
  const tick = async (): Promise<void> => {
    if (stopped) return;
    const now = new Date();
    try {
      let lease: V1Lease | null = null;
      try {
        lease = await api.readNamespacedLease({ name: opts.name, namespace: opts.namespace });
      } catch (e) {
        if ((e as { code?: number }).code !== 404) throw e;
      }
      const d = decide(lease === null ? null : view(lease), now, opts.identity);
      if (d === "follow") {
        holding = false;
        report(false, lease?.spec?.holderIdentity);
      } else {
        // Lease times are MicroTime: six fractional digits, which a plain Date
        // does not serialize to (the API server answers 400).
        const stamp = new V1MicroTime(now.getTime());
        const spec = {
          holderIdentity: opts.identity,
          leaseDurationSeconds: leaseSeconds,
          renewTime: stamp,
          ...(d === "acquire" ? { acquireTime: stamp, leaseTransitions: (lease?.spec?.leaseTransitions ?? -1) + 1 } : {}),
        };
        if (lease === null) {
          await api.createNamespacedLease({ namespace: opts.namespace, body: { metadata: { name: opts.name }, spec } });
        } else {
          // resourceVersion makes this a compare-and-swap: a racing replica gets a 409.
          await api.replaceNamespacedLease({
            name: opts.name,
            namespace: opts.namespace,
            body: { metadata: lease.metadata ?? { name: opts.name }, spec: { ...lease.spec, ...spec } },
          });
        }
        holding = true;
        report(true, opts.identity);
      }
    } catch {
      // Lost the race or the API server: not leading until the next successful renewal.
      report(false, undefined);
    }
    if (!stopped) timer = setTimeout(() => (inflight = tick()), (opts.retrySeconds ?? 2) * 1000);
  };
  inflight = tick();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
    release: async () => {
      await inflight;
      if (!holding && !leading) return;
      holding = false;
      leading = false;
      const lease = await api.readNamespacedLease({ name: opts.name, namespace: opts.namespace });
      if (lease.spec?.holderIdentity !== opts.identity) return;
      // Compare-and-swap on resourceVersion: a Lease taken meanwhile is left alone (409).
      await api.replaceNamespacedLease({
        name: opts.name,
        namespace: opts.namespace,
        body: { metadata: lease.metadata ?? { name: opts.name }, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: new V1MicroTime(Date.now()) } },
      });
    },
  };
}
