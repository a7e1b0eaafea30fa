/**
 * HTTP client for one repository of one registry (distribution API v2):
 * plain HTTP only for registries named insecure, redirects followed by hand
 * under redirect-policy.ts (http/https only, no downgrade, credentials never
 * to another origin), an idle timeout on every request and its body, and
 * authentication on demand: anonymous first, then on 401 a Bearer token
 * from the challenge's realm (with basic credentials when the pull secret
 * has them) or Basic credentials, and one retry.
 */
import type { ChunkSourceReader } from "./blob.ts";
import { IdleTimer, readCapped, readPrefix, timedReader } from "./body-reader.ts";
import { describeSystemError } from "../../errors/system-error.ts";
import type { RegistryCredentials } from "./docker-config.ts";
import { RegistryHttpError, RegistryTimeoutError, RegistryUnreachableError, UnsafeResponseError } from "./errors.ts";
import { DEFAULT_TIMEOUT_MS, formatBytes, formatSeconds, MAX_ERROR_BYTES, MAX_REDIRECTS, MAX_TOKEN_BYTES } from "./limits.ts";
import { mayCarryCredentials, redirectTarget, tokenRealmProblem } from "./redirect-policy.ts";
import { isDockerHub } from "./reference.ts";
import { parseWwwAuthenticate, type AuthChallenge } from "./www-authenticate.ts";

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
  /** Idle timeout of every request and body read (default 30 s). */
  readonly timeoutMs?: number;
}

export interface RegistryRequest {
  readonly method?: "GET" | "HEAD";
  readonly accept?: readonly string[];
  /** What is fetched, for messages: `the manifest "latest"`, `blob "sha256:..."`. */
  readonly what: string;
}

/** A 2xx answer; the body is read through `body` (idle timeout applies). */
export interface RegistryResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The URL that answered (after redirects). */
  readonly url: string;
  readonly body: ChunkSourceReader;
}

interface Exchange {
  readonly response: Response;
  readonly url: URL;
  readonly body: ChunkSourceReader;
}

const DEFAULT_TOKEN_LIFETIME_S = 60;

/** Hostname that serves the API for a registry name (Docker Hub's differs). */
export function registryEndpoint(registry: string): string {
  return isDockerHub(registry) ? "registry-1.docker.io" : registry;
}

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}

/** The start of an error body (at most MAX_ERROR_BYTES are read), as text. */
async function readErrorBody(body: ChunkSourceReader): Promise<string> {
  return new TextDecoder().decode(await readPrefix(body, MAX_ERROR_BYTES));
}

/** Formats a distribution error document (`{"errors":[{code,message}]}`) or raw text. */
function describeErrorBody(body: string): { code: string | undefined; text: string } {
  try {
    const doc = JSON.parse(body) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = doc.errors?.[0];
    if (first !== undefined) {
      const code = typeof first.code === "string" ? first.code : undefined;
      const message = typeof first.message === "string" ? first.message : "";
      const text = [code, message].filter((s) => s !== undefined && s !== "").join(": ");
      return { code, text: text.length > 200 ? `${text.slice(0, 200)}...` : text };
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
  private readonly timeoutMs: number;
  /** Authorization header to send up front once a challenge was answered. */
  private authorization: { header: string; expiresAt: number } | undefined;

  constructor(options: RegistryClientOptions) {
    this.options = options;
    this.registry = options.registry;
    this.repository = options.repository;
    this.baseUrl = `${options.insecure ? "http" : "https"}://${registryEndpoint(options.registry)}`;
    this.scope = `repository:${options.repository}:pull`;
    this.doFetch = options.fetch ?? ((url, init) => fetch(url, init));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /**
   * Sends a request for `path` (below /v2/<repository>/) and returns a 2xx
   * response whose body is unread; throws RegistryHttpError otherwise.
   */
  async get(path: string, request: RegistryRequest): Promise<RegistryResponse> {
    const url = `${this.baseUrl}/v2/${this.repository}/${path}`;
    const method = request.method ?? "GET";
    let answeredChallenge = false;
    for (;;) {
      const headers: Record<string, string> = {};
      if (request.accept !== undefined) headers.accept = request.accept.join(", ");
      if (this.authorization !== undefined && this.authorization.expiresAt > Date.now()) {
        headers.authorization = this.authorization.header;
      }
      const { response, url: answered, body } = await this.send(url, method, headers, new URL(this.baseUrl).origin, request.what);
      if (response.status === 401 && !answeredChallenge) {
        const challenge = response.headers.get("www-authenticate");
        await body.cancel();
        await this.answer(challenge, url);
        answeredChallenge = true;
        continue;
      }
      if (response.ok) return { status: response.status, headers: response.headers, url: answered.href, body };
      const text0 = method === "HEAD" ? "" : await readErrorBody(body);
      if (method === "HEAD") await body.cancel();
      const { code, text } = describeErrorBody(text0);
      let message = `registry "${this.registry}" answered ${response.status} ${response.statusText} to ${method} ${answered.href}${text !== "" ? ` (${text})` : ""}`;
      if (response.status === 401) {
        message = this.options.credentials === undefined
          ? `registry "${this.registry}" requires authentication and no pull secret has credentials for it (401 to ${url})`
          : `registry "${this.registry}" rejected the credentials of the pull secret (401 to ${url})`;
      }
      throw new RegistryHttpError(response.status, answered.href, code, message);
    }
  }

  /**
   * One HTTP exchange, following redirects by hand under the redirect
   * policy. The Authorization header goes only to `credentialOrigin`; every
   * hop has the idle timeout, and so has the body of the answer.
   */
  private async send(url: string, method: string, headers: Record<string, string>, credentialOrigin: string, what: string): Promise<Exchange> {
    let current = new URL(url);
    for (let hop = 0; ; hop++) {
      // Bodies are taken as sent (decompress: false): ask for them uncompressed.
      const hopHeaders: Record<string, string> = { ...headers, "user-agent": this.options.userAgent ?? "bunvirt", "accept-encoding": "identity" };
      if (!mayCarryCredentials(current, credentialOrigin)) delete hopHeaders.authorization;
      const abort = new AbortController();
      const hopUrl = current;
      const timer = new IdleTimer(
        this.timeoutMs,
        () => new RegistryTimeoutError(
          `timed out waiting for ${what} from "${hopUrl.host}": nothing arrived for ${formatSeconds(this.timeoutMs)} (${hopUrl.origin}${hopUrl.pathname}; the limit is set with --registry-timeout)`,
        ),
        abort,
      );
      const signal = this.options.signal !== undefined ? AbortSignal.any([this.options.signal, abort.signal]) : abort.signal;
      let response: Response;
      try {
        response = await timer.race(this.doFetch(current.href, {
          method,
          headers: hopHeaders,
          redirect: "manual",
          decompress: false,
          signal,
          ...(this.options.caCertificates !== undefined ? { tls: { ca: [...this.options.caCertificates] } } : {}),
        }));
      } catch (error) {
        if (timer.error !== undefined) throw timer.error;
        if (this.options.signal?.aborted === true) throw error;
        const ownOrigin = current.origin === new URL(this.baseUrl).origin;
        const hint = current.protocol === "https:" && ownOrigin
          ? ` (if "${this.registry}" serves plain HTTP, list it in insecureRegistries)`
          : "";
        throw new RegistryUnreachableError(
          `cannot reach ${ownOrigin ? `registry "${this.registry}"` : `"${current.host}"`} at ${current.origin}${current.pathname} (fetching ${what}): ${describeSystemError(error)}${hint}`,
          { cause: error },
        );
      }
      const answered = current;
      const body = timedReader(response.body, timer, (error) => new RegistryUnreachableError(
        `the connection to "${answered.host}" failed while receiving ${what}: ${describeSystemError(error)}`,
        { cause: error },
      ));
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await body.cancel();
        if (hop >= MAX_REDIRECTS) {
          throw new UnsafeResponseError(`"${current.host}" redirected the request for ${what} more than ${MAX_REDIRECTS} times`);
        }
        current = redirectTarget(current, location, what);
        continue;
      }
      return { response, url: current, body };
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
    throw new RegistryHttpError(401, url, "UNAUTHORIZED", `registry "${this.registry}" asks for unsupported authentication "${clip(header)}"`);
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
      throw new RegistryHttpError(401, this.baseUrl, "UNAUTHORIZED", `registry "${this.registry}" sent a Bearer realm that is not a URL: "${clip(realm)}"`);
    }
    const problem = tokenRealmProblem(tokenUrl, this.options.insecure);
    if (problem !== null) throw new UnsafeResponseError(`registry "${this.registry}" asks for a token, but ${problem}; nothing was sent there`);
    if (challenge.params.service !== undefined) tokenUrl.searchParams.set("service", challenge.params.service);
    const scopes = new Set<string>([this.scope]);
    if (challenge.params.scope !== undefined && challenge.params.scope !== "") scopes.add(challenge.params.scope);
    for (const scope of scopes) tokenUrl.searchParams.append("scope", scope);
    const creds = this.options.credentials;
    const headers: Record<string, string> = { accept: "application/json" };
    if (creds?.username !== undefined && creds.password !== undefined) headers.authorization = basicHeader(creds.username, creds.password);
    const where = `token server ${tokenUrl.origin}${tokenUrl.pathname} of registry "${this.registry}"`;
    const { response, url, body } = await this.send(tokenUrl.href, "GET", headers, tokenUrl.origin, `a token from the ${where}`);
    if (!response.ok) {
      const { code, text } = describeErrorBody(await readErrorBody(body));
      const who = headers.authorization !== undefined ? "rejected the credentials of the pull secret" : "refused an anonymous token";
      throw new RegistryHttpError(
        response.status === 403 ? 403 : 401,
        url.href,
        code ?? "UNAUTHORIZED",
        `${where} ${who} (${response.status}${text !== "" ? `: ${text}` : ""})`,
      );
    }
    const bytes = await readCapped(body, MAX_TOKEN_BYTES, () => new UnsafeResponseError(`the ${where} answered more than ${formatBytes(MAX_TOKEN_BYTES)}; a token answer is never that large`));
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      doc = JSON.parse(new TextDecoder().decode(bytes)) as typeof doc;
    } catch (error) {
      throw new RegistryHttpError(502, url.href, undefined, `the ${where} answered something that is not JSON: ${(error as Error).message}`);
    }
    const token = typeof doc?.token === "string" && doc.token !== "" ? doc.token : doc?.access_token;
    if (typeof token !== "string" || token === "") {
      throw new RegistryHttpError(502, url.href, undefined, `the ${where} answered without a token`);
    }
    const lifetime = typeof doc.expires_in === "number" && doc.expires_in > 0 ? doc.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    // Renew a little early; a 401 later still gets one more challenge round.
    return { header: `Bearer ${token}`, expiresAt: Date.now() + Math.max(1, lifetime - 5) * 1000 };
  }
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
