/**
 * Reaching the cluster. A role keeps running when the cluster is away: it
 * reports not-ready with the reason and retries with backoff.
 */
import { existsSync } from "node:fs";
import { KubeConfig, VersionApi } from "@kubernetes/client-node";
import { makeApiClient } from "./api-client.ts";
import { backoffDelay, clusterBackoff } from "../retry/backoff.ts";

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
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const attempt = async (n: number): Promise<void> => {
    if (stopped) return;
    try {
      const kc = loadKubeConfig(opts);
      await probeCluster(kc);
      if (stopped) return;
      onState(null);
      onConnected(kc);
    } catch (e) {
      if (stopped) return;
      onState((e as Error).message);
      timer = setTimeout(() => void attempt(n + 1), backoffDelay(n, clusterBackoff));
    }
  };
  void attempt(0);
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
