/**
 * Reaching the cluster. A role keeps running when the cluster is away: it
 * reports not-ready with the reason and retries with backoff.
 */
import { existsSync } from "node:fs";
import { KubeConfig, VersionApi } from "@kubernetes/client-node";
import { makeApiClient } from "./api-client.ts";
import { retryUntil } from "../retry/retry-until.ts";

export interface ClusterOptions {
  /** Path to a kubeconfig; default: in-cluster config, else $KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string;
}

export function loadKubeConfig(opts: ClusterOptions): KubeConfig {
  const kc = new KubeConfig();
  if (opts.kubeconfig !== undefined) {
    if (!existsSync(opts.kubeconfig)) throw new Error(`Cannot load kubeconfig: "${opts.kubeconfig}" does not exist`);
    kc.loadFromFile(opts.kubeconfig);
  } else {
    kc.loadFromDefault();
  }
  if (kc.getCurrentCluster() === null) throw new Error("Cannot reach the cluster: no cluster is configured (give --kubeconfig)");
  return kc;
}

/** Asks the API server for its version; throws with the reason when it cannot. */
export async function probeCluster(kc: KubeConfig): Promise<string> {
  try {
    const info = await makeApiClient(kc, VersionApi).getCode();
    return info.gitVersion;
  } catch (cause) {
    const server = kc.getCurrentCluster()?.server ?? "?";
    throw new Error(`Cannot reach the cluster at "${server}": ${(cause as Error).message}`, { cause });
  }
}

export interface Connection {
  stop(): void;
}

/**
 * Loads the config and probes the API server until both work, then calls
 * `onConnected` once. `onState` reports each failure (the reason) and the
 * success (null).
 */
export function connectWithRetry(
  opts: ClusterOptions,
  onState: (reason: string | null) => void,
  onConnected: (kc: KubeConfig) => void,
): Connection {
  return retryUntil(
    async (_n, retrying) => {
      const kc = loadKubeConfig(opts);
      await probeCluster(kc);
      if (retrying.stopped) return;
      onState(null);
      onConnected(kc);
    },
    (e) => onState(e.message),
  );
}
