/**
 * API clients whose requests carry the kubeconfig's TLS settings under Bun.
 *
 * @kubernetes/client-node 2.0.1 puts the cluster's CA and the user's client
 * certificate into an undici dispatcher, which Bun's fetch ignores: the CA
 * file is not trusted and the client certificate is never sent (403 as
 * system:anonymous). Bun's fetch reads them from its `tls` option instead;
 * the clients made here pass them there.
 */
import {
  bufferFromFileOrString,
  createConfiguration,
  HttpMethod,
  type HttpLibrary,
  type KubeConfig,
  Observable,
  RequestContext,
  ResponseContext,
  ServerConfiguration,
} from "@kubernetes/client-node";
import { version } from "../version.ts";

/** Bun's fetch `tls` option. */
export interface FetchTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  serverName?: string;
}

/** The TLS settings of the kubeconfig's current cluster and user (files are read now). */
export function fetchTls(kc: KubeConfig): FetchTls {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  const tls: FetchTls = {};
  const ca = bufferFromFileOrString(cluster?.caFile, cluster?.caData);
  if (ca !== null) tls.ca = ca;
  const cert = bufferFromFileOrString(user?.certFile, user?.certData);
  if (cert !== null) tls.cert = cert;
  const key = bufferFromFileOrString(user?.keyFile, user?.keyData);
  if (key !== null) tls.key = key;
  if (cluster?.skipTLSVerify === true) tls.rejectUnauthorized = false;
  if (cluster?.tlsServerName !== undefined) tls.serverName = cluster.tlsServerName;
  return tls;
}

/** Sends the generated clients' requests with Bun's fetch and the given TLS settings. */
class BunFetchHttpLibrary implements HttpLibrary {
  constructor(private readonly tls: FetchTls) {}

  send(request: RequestContext): Observable<ResponseContext> {
    if (request.getHeaders()["User-Agent"] === undefined) request.setHeaderParam("User-Agent", `bunvirt/${version}`);
    const sent = fetch(request.getUrl(), {
      method: request.getHttpMethod().toString(),
      body: request.getBody() as RequestInit["body"],
      headers: request.getHeaders(),
      signal: request.getSignal() ?? null,
      tls: this.tls,
    }).then((resp) => {
      const headers: Record<string, string> = {};
      resp.headers.forEach((value, name) => (headers[name] = value));
      return new ResponseContext(resp.status, headers, {
        text: () => resp.text(),
        binary: async () => Buffer.from(await resp.arrayBuffer()),
        stream: () => resp.body,
      });
    });
    return new Observable(sent);
  }
}

/** An API client (e.g. CoreV1Api) for the kubeconfig's current context; use it instead of `kc.makeApiClient`. */
export function makeApiClient<T>(kc: KubeConfig, api: new (config: ReturnType<typeof createConfiguration>) => T): T {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error("Cannot make an API client: the kubeconfig has no current cluster");
  return new api(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kc },
      httpApi: new BunFetchHttpLibrary(fetchTls(kc)),
    }),
  );
}

/**
 * A raw request to the API server (for what the generated clients do not
 * cover, such as watch streams): `path` is appended to the server URL; the
 * kubeconfig's credentials and TLS settings are applied.
 */
export async function kubeFetch(kc: KubeConfig, path: string, init: RequestInit = {}): Promise<Response> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error("Cannot reach the cluster: the kubeconfig has no current cluster");
  const url = cluster.server.replace(/\/+$/, "") + path;
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(await kubeAuthHeaders(kc, url))) if (!headers.has(name)) headers.set(name, value);
  return fetch(url, { ...init, headers, tls: fetchTls(kc) });
}

/** The headers that authenticate a request to `url` as the kubeconfig's user (a bearer token; none for a client certificate). */
export async function kubeAuthHeaders(kc: KubeConfig, url: string): Promise<Record<string, string>> {
  const auth = new RequestContext(url, HttpMethod.GET);
  await kc.applySecurityAuthentication(auth);
  return auth.getHeaders();
}
