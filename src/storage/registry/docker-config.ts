/**
 * Pull-secret parsing: the `.dockerconfigjson` document of a
 * `kubernetes.io/dockerconfigjson` Secret (`{"auths":{"host":{...}}}`), and
 * the legacy `.dockercfg` shape (hosts at the top level). Each entry gives
 * either `auth` (base64 of "user:password") or `username` + `password`, or a
 * `registrytoken` (a bearer token used as is).
 */

export interface RegistryCredentials {
  readonly username?: string;
  readonly password?: string;
  /** Bearer token sent as is (docker's "registrytoken"). */
  readonly registryToken?: string;
}

export interface DockerConfig {
  /** Normalized key ("host[:port]" or "host[:port]/path") to credentials. */
  readonly auths: ReadonlyMap<string, RegistryCredentials>;
}

export class InvalidDockerConfigError extends Error {
  constructor(reason: string) {
    super(`Cannot read pull secret: ${reason}`);
    this.name = "InvalidDockerConfigError";
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Normalizes an `auths` key: drops the scheme and a trailing "/v1/" or "/v2/",
 * lower-cases the host, maps Docker Hub aliases to "docker.io".
 */
export function normalizeRegistryKey(key: string): string {
  let k = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  k = k.replace(/\/+$/, "").replace(/\/v[12]$/, "").replace(/\/+$/, "");
  const slash = k.indexOf("/");
  const host = (slash >= 0 ? k.slice(0, slash) : k).toLowerCase();
  const path = slash >= 0 ? k.slice(slash) : "";
  const canonicalHost = host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
  return canonicalHost + path;
}

function decodeBase64(text: string, key: string): string {
  if (!/^[A-Za-z0-9+/=\s]*$/.test(text)) throw new InvalidDockerConfigError(`"auth" of "${key}" is not base64`);
  return Buffer.from(text, "base64").toString("utf8");
}

function parseEntry(key: string, value: unknown): RegistryCredentials {
  if (!isObject(value)) throw new InvalidDockerConfigError(`entry "${key}" is not an object`);
  const str = (field: string): string | undefined => {
    const v = value[field];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") throw new InvalidDockerConfigError(`"${field}" of "${key}" is not a string`);
    return v;
  };
  const auth = str("auth");
  let username = str("username");
  let password = str("password");
  const registryToken = str("registrytoken");
  if (auth !== undefined) {
    const decoded = decodeBase64(auth, key);
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new InvalidDockerConfigError(`"auth" of "${key}" does not decode to "user:password"`);
    const fromAuth = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    if (username !== undefined && username !== fromAuth.username) {
      throw new InvalidDockerConfigError(`"auth" and "username" of "${key}" name different users`);
    }
    username = fromAuth.username;
    password = fromAuth.password;
  }
  if (username !== undefined && password === undefined) {
    throw new InvalidDockerConfigError(`entry "${key}" has a username but no password`);
  }
  if (username === undefined && password !== undefined) {
    throw new InvalidDockerConfigError(`entry "${key}" has a password but no username`);
  }
  if (username === undefined && registryToken === undefined) {
    throw new InvalidDockerConfigError(`entry "${key}" has neither "auth", "username"/"password" nor "registrytoken"`);
  }
  return {
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(registryToken !== undefined ? { registryToken } : {}),
  };
}

/** Accepts the JSON text, its bytes, or the already parsed object. */
export function parseDockerConfigJson(input: string | Uint8Array | unknown): DockerConfig {
  let doc: unknown = input;
  if (typeof input === "string" || input instanceof Uint8Array) {
    const text = typeof input === "string" ? input : new TextDecoder().decode(input);
    try {
      doc = JSON.parse(text);
    } catch (error) {
      throw Object.assign(new InvalidDockerConfigError("it is not JSON"), { cause: error });
    }
  }
  if (!isObject(doc)) throw new InvalidDockerConfigError("the document is not a JSON object");
  const entries = "auths" in doc ? doc.auths : doc; // legacy .dockercfg: hosts at the top level
  if (!isObject(entries)) throw new InvalidDockerConfigError(`"auths" is not an object`);
  const auths = new Map<string, RegistryCredentials>();
  for (const [key, value] of Object.entries(entries)) {
    if (key.trim() === "") throw new InvalidDockerConfigError("an entry has an empty registry name");
    auths.set(normalizeRegistryKey(key), parseEntry(key, value));
  }
  return { auths };
}

/**
 * Credentials for `registry`/`repository`: the longest key that is the
 * registry itself or a path prefix of the repository on it (as kubelet
 * matches "host/namespace" keys).
 */
export function credentialsFor(
  config: DockerConfig | undefined,
  registry: string,
  repository = "",
): RegistryCredentials | undefined {
  if (config === undefined) return undefined;
  const host = normalizeRegistryKey(registry);
  const full = repository === "" ? host : `${host}/${repository}`;
  let best: { key: string; creds: RegistryCredentials } | undefined;
  for (const [key, creds] of config.auths) {
    const matches = key === host || full === key || full.startsWith(`${key}/`);
    if (matches && (best === undefined || key.length > best.key.length)) best = { key, creds };
  }
  return best?.creds;
}
