/**
 * HTTP client for one repository of one registry (distribution API v2):
 * plain HTTP only for registries named insecure, redirects followed by hand
 * (credentials never go to another origin), and authentication on demand:
 * anonymous first, then on 401 a Bearer token from the challenge's realm
 * (with basic credentials when the pull secret has them) or Basic
 * credentials, and one retry.
 */
import { describeSystemError } from "../../errors/system-error.ts";
import type { RegistryCredentials } from "./dockerConfig.ts";
import { RegistryHttpError, RegistryUnreachableError } from "./errors.ts";
import { isDockerHub } from "./reference.ts";
import { parseWwwAuthenticate, type AuthChallenge } from "./wwwAuthenticate.ts";

export type FetchLike = (url: string, init: BunFetchRequestInit) => Promise<Response>;

export interface RegistryClientOptions {
  /** Registry host[:port] as in the reference. */
  readonly registry: string;
  readonly repository: string;
  /** Use http:// instead of https://. */
  readonly insecure: boolean;
  readonly credentials?: RegistryCredentials;
  /** Extra trusted CA certificates (PEM) for https registries and token servers. */
  readonly caCertificates?: readonly string[];
  readonly signal?: AbortSignal;
  readonly fetch?: FetchLike;
  readonly userAgent?: string;
}

export interface RegistryRequest {
  readonly method?: "GET" | "HEAD";
  readonly accept?: readonly string[];
}

const MAX_REDIRECTS = 5;
const MAX_ERROR_BODY = 64 * 1024;
const DEFAULT_TOKEN_LIFETIME_S = 60;

/** Hostname that serves the API for a registry name (Docker Hub's differs). */
export function registryEndpoint(registry: string): string {
  return isDockerHub(registry) ? "registry-1.docker.io" : registry;
}

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}

async function readErrorBody(response: Response): Promise<string> {
  try {
    const text = await response.text();
    return text.length > MAX_ERROR_BODY ? text.slice(0, MAX_ERROR_BODY) : text;
  } catch {
    return "";
  }
}

/** Formats a distribution error document (`{"errors":[{code,message}]}`) or raw text. */
function describeErrorBody(body: string): { code: string | undefined; text: string } {
  try {
    const doc = JSON.parse(body) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = doc.errors?.[0];
    if (first !== undefined) {
      const code = typeof first.code === "string" ? first.code : undefined;
      const message = typeof first.message === "string" ? first.message : "";
      return { code, text: [code, message].filter((s) => s !== undefined && s !== "").join(": ") };
    }
  } catch {
    // not JSON
  }
  const text = body.trim().replace(/\s+/g, " ");
  return { code: undefined, text: text.length > 200 ? `${text.slice(0, 200)}...` : text };
}

export class RegistryClient {
  readonly registry: string;
  readonly repository: string;
  readonly baseUrl: string;
  readonly scope: string;
  private readonly options: RegistryClientOptions;
  private readonly doFetch: FetchLike;
  /** Authorization header to send up front once a challenge was answered. */
  private authorization: { header: string; expiresAt: number } | undefined;

  constructor(options: RegistryClientOptions) {
    this.options = options;
    this.registry = options.registry;
    this.repository = options.repository;
    this.baseUrl = `${options.insecure ? "http" : "https"}://${registryEndpoint(options.registry)}`;
    this.scope = `repository:${options.repository}:pull`;
    this.doFetch = options.fetch ?? ((url, init) => fetch(url, init));
  }

  /**
   * Sends a request for `path` (below /v2/<repository>/) and returns a 2xx
   * response whose body is unread; throws RegistryHttpError otherwise.
   */
  async get(path: string, request: RegistryRequest = {}): Promise<Response> {
    const url = `${this.baseUrl}/v2/${this.repository}/${path}`;
    let answeredChallenge = false;
    for (;;) {
      const headers: Record<string, string> = {};
      if (request.accept !== undefined) headers.accept = request.accept.join(", ");
      if (this.authorization !== undefined && this.authorization.expiresAt > Date.now()) {
        headers.authorization = this.authorization.header;
      }
      const response = await this.send(url, request.method ?? "GET", headers);
      if (response.status === 401 && !answeredChallenge) {
        const challenge = response.headers.get("www-authenticate");
        await readErrorBody(response);
        await this.answer(challenge, url);
        answeredChallenge = true;
        continue;
      }
      if (response.ok) return response;
      const body = request.method === "HEAD" ? "" : await readErrorBody(response);
      const { code, text } = describeErrorBody(body);
      let message = `registry "${this.registry}" answered ${response.status} ${response.statusText} to ${request.method ?? "GET"} ${url}${text !== "" ? ` (${text})` : ""}`;
      if (response.status === 401) {
        message = this.options.credentials === undefined
          ? `registry "${this.registry}" requires authentication and no pull secret has credentials for it (401 to ${url})`
          : `registry "${this.registry}" rejected the credentials of the pull secret (401 to ${url})`;
      }
      throw new RegistryHttpError(response.status, url, code, message);
    }
  }

  /** One HTTP exchange, following redirects; Authorization only to the same origin. */
  private async send(url: string, method: string, headers: Record<string, string>): Promise<Response> {
    let current = url;
    const origin = new URL(url).origin;
    for (let hop = 0; ; hop++) {
      const sameOrigin = new URL(current).origin === origin;
      const hopHeaders: Record<string, string> = { ...headers, "user-agent": this.options.userAgent ?? "bunvirt" };
      if (!sameOrigin) delete hopHeaders.authorization;
      let response: Response;
      try {
        response = await this.doFetch(current, {
          method,
          headers: hopHeaders,
          redirect: "manual",
          decompress: false,
          ...(this.options.signal !== undefined ? { signal: this.options.signal } : {}),
          ...(this.options.caCertificates !== undefined ? { tls: { ca: [...this.options.caCertificates] } } : {}),
        });
      } catch (error) {
        if (this.options.signal?.aborted === true) throw error;
        const hint = current.startsWith("https:") && sameOrigin
          ? ` (if "${this.registry}" serves plain HTTP, list it in insecureRegistries)`
          : "";
        throw new RegistryUnreachableError(
          `cannot reach registry "${this.registry}" at ${current}: ${describeSystemError(error)}${hint}`,
          { cause: error },
        );
      }
      if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
        if (hop >= MAX_REDIRECTS) throw new RegistryHttpError(response.status, current, undefined, `too many redirects from ${url}`);
        await readErrorBody(response);
        current = new URL(response.headers.get("location") as string, current).toString();
        continue;
      }
      return response;
    }
  }

  /** Reacts to a 401: obtains a Bearer token or prepares Basic credentials. */
  private async answer(header: string | null, url: string): Promise<void> {
    const creds = this.options.credentials;
    if (header === null || header.trim() === "") {
      throw new RegistryHttpError(401, url, "UNAUTHORIZED", `registry "${this.registry}" answered 401 without a WWW-Authenticate challenge to ${url}`);
    }
    let challenges: AuthChallenge[];
    try {
      challenges = parseWwwAuthenticate(header);
    } catch (error) {
      throw new RegistryHttpError(401, url, "UNAUTHORIZED", `registry "${this.registry}" sent an unreadable challenge: ${(error as Error).message}`);
    }
    const bearer = challenges.find((c) => c.scheme === "bearer");
    const basic = challenges.find((c) => c.scheme === "basic");
    if (bearer !== undefined) {
      if (creds?.registryToken !== undefined) {
        this.authorization = { header: `Bearer ${creds.registryToken}`, expiresAt: Number.POSITIVE_INFINITY };
        return;
      }
      this.authorization = await this.fetchToken(bearer);
      return;
    }
    if (basic !== undefined) {
      if (creds?.username === undefined || creds.password === undefined) {
        throw new RegistryHttpError(
          401,
          url,
          "UNAUTHORIZED",
          `registry "${this.registry}" requires basic authentication (realm "${basic.params.realm ?? ""}") and no pull secret has credentials for it`,
        );
      }
      this.authorization = { header: basicHeader(creds.username, creds.password), expiresAt: Number.POSITIVE_INFINITY };
      return;
    }
    throw new RegistryHttpError(401, url, "UNAUTHORIZED", `registry "${this.registry}" asks for unsupported authentication "${header}"`);
  }

  private async fetchToken(challenge: AuthChallenge): Promise<{ header: string; expiresAt: number }> {
    const realm = challenge.params.realm;
    if (realm === undefined || realm === "") {
      throw new RegistryHttpError(401, this.baseUrl, "UNAUTHORIZED", `registry "${this.registry}" sent a Bearer challenge without realm`);
    }
    let tokenUrl: URL;
    try {
      tokenUrl = new URL(realm);
    } catch {
      throw new RegistryHttpError(401, this.baseUrl, "UNAUTHORIZED", `registry "${this.registry}" sent a Bearer realm that is not a URL: "${realm}"`);
    }
    if (challenge.params.service !== undefined) tokenUrl.searchParams.set("service", challenge.params.service);
    const scopes = new Set<string>([this.scope]);
    if (challenge.params.scope !== undefined && challenge.params.scope !== "") scopes.add(challenge.params.scope);
    for (const scope of scopes) tokenUrl.searchParams.append("scope", scope);
    const creds = this.options.credentials;
    const headers: Record<string, string> = { accept: "application/json", "user-agent": this.options.userAgent ?? "bunvirt" };
    if (creds?.username !== undefined && creds.password !== undefined) headers.authorization = basicHeader(creds.username, creds.password);
    let response: Response;
    try {
      response = await this.doFetch(tokenUrl.toString(), {
        headers,
        ...(this.options.signal !== undefined ? { signal: this.options.signal } : {}),
        ...(this.options.caCertificates !== undefined ? { tls: { ca: [...this.options.caCertificates] } } : {}),
      });
    } catch (error) {
      throw new RegistryUnreachableError(
        `cannot reach the token server of registry "${this.registry}" at ${tokenUrl.origin}${tokenUrl.pathname}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (!response.ok) {
      const { code, text } = describeErrorBody(await readErrorBody(response));
      const who = headers.authorization !== undefined ? "rejected the credentials of the pull secret" : "refused an anonymous token";
      throw new RegistryHttpError(
        response.status === 403 ? 403 : 401,
        tokenUrl.toString(),
        code ?? "UNAUTHORIZED",
        `token server ${tokenUrl.origin}${tokenUrl.pathname} of registry "${this.registry}" ${who} (${response.status}${text !== "" ? `: ${text}` : ""})`,
      );
    }
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      doc = (await response.json()) as typeof doc;
    } catch (error) {
      throw new RegistryHttpError(502, tokenUrl.toString(), undefined, `token server of registry "${this.registry}" answered something that is not JSON: ${(error as Error).message}`);
    }
    const token = typeof doc.token === "string" && doc.token !== "" ? doc.token : doc.access_token;
    if (typeof token !== "string" || token === "") {
      throw new RegistryHttpError(502, tokenUrl.toString(), undefined, `token server of registry "${this.registry}" answered without a token`);
    }
    const lifetime = typeof doc.expires_in === "number" && doc.expires_in > 0 ? doc.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    // Renew a little early; a 401 later still gets one more challenge round.
    return { header: `Bearer ${token}`, expiresAt: Date.now() + Math.max(1, lifetime - 5) * 1000 };
  }
}
