/**
 * The client commands' way to the API server, found as kubectl finds it:
 * --kubeconfig, else $KUBECONFIG, ~/.kube/config, in-cluster; --context or
 * the current one; the namespace from -n, else the context's, else "default".
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { type FetchTls, fetchTls, kubeAuthHeaders } from "../../kube/api-client.ts";
import { loadKubeConfig } from "../../kube/cluster.ts";

export interface VirtConnection {
  kc: KubeConfig;
  namespace: string;
  /** The API server's URL without a trailing slash, e.g. https://10.0.0.1:6443. */
  server: string;
  tls: FetchTls;
  /** Headers that authenticate a request to `url` (a bearer token; none for a client certificate). */
  authHeaders(url: string): Promise<Record<string, string>>;
}

export interface ConnectionFlags {
  kubeconfig?: string | undefined;
  namespace?: string | undefined;
  /** A context of the kubeconfig other than its current one. */
  context?: string | undefined;
}

export function virtConnection(flags: ConnectionFlags): VirtConnection {
  const kc = loadKubeConfig(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {});
  if (flags.context !== undefined) {
    if (kc.getContextObject(flags.context) === null) throw new Error(`--context "${flags.context}": the kubeconfig has no such context`);
    kc.setCurrentContext(flags.context);
    if (kc.getCurrentCluster() === null) throw new Error(`--context "${flags.context}": its cluster is not in the kubeconfig`);
  }
  const server = kc.getCurrentCluster()!.server.replace(/\/+$/, "");
  const fromContext = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const namespace = flags.namespace ?? (fromContext !== undefined && fromContext !== "" ? fromContext.trim() : "default");
  return { kc, namespace, server, tls: fetchTls(kc), authHeaders: (url) => kubeAuthHeaders(kc, url) };
}

/** The subresource's path, e.g. /apis/subresources.kubevirt.io/v1/namespaces/NS/virtualmachines/NAME/stop. */
export function subresourcePath(namespace: string, resource: "virtualmachines" | "virtualmachineinstances", name: string, subresource: string): string {
  return `/apis/subresources.kubevirt.io/v1/namespaces/${encodeURIComponent(namespace)}/${resource}/${encodeURIComponent(name)}/${subresource}`;
}
