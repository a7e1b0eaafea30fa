/**
 * The API server's front-proxy settings, as it publishes them in ConfigMap
 * kube-system/extension-apiserver-authentication: the CA that signs its
 * front-proxy client certificate, the names that certificate may carry, and
 * the headers that name the user it speaks for (X-Remote-User,
 * X-Remote-Group, X-Remote-Extra-*). Also the user read from those headers.
 */

export const authConfigMap = { namespace: "kube-system", name: "extension-apiserver-authentication" } as const;

export interface RequestHeaderConfig {
  /** PEM bundle of the requestheader client CA. */
  caPem: string;
  /** CNs allowed in the front-proxy certificate; empty: any the CA signed. */
  allowedNames: string[];
  usernameHeaders: string[];
  groupHeaders: string[];
  extraPrefixes: string[];
  uidHeaders: string[];
}

export interface RemoteUser {
  user: string;
  groups: string[];
  extra: Record<string, string[]>;
  uid?: string;
}

const maxListItems = 64;

function jsonList(data: Record<string, string>, key: string): string[] {
  const text = data[key];
  if (text === undefined || text.trim() === "") return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`ConfigMap ${authConfigMap.namespace}/${authConfigMap.name}: "${key}" is not a JSON list`);
  }
  if (!Array.isArray(value) || value.length > maxListItems || !value.every((v) => typeof v === "string" && v.length > 0 && v.length <= 256)) {
    throw new Error(`ConfigMap ${authConfigMap.namespace}/${authConfigMap.name}: "${key}" must be a JSON list of at most ${maxListItems} non-empty strings`);
  }
  return value as string[];
}

/** The settings from the ConfigMap's data; throws naming the key when one is missing or malformed. */
export function requestHeaderConfig(data: Record<string, string> | undefined): RequestHeaderConfig {
  const d = data ?? {};
  const caPem = d["requestheader-client-ca-file"] ?? "";
  if (!caPem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new Error(`ConfigMap ${authConfigMap.namespace}/${authConfigMap.name}: "requestheader-client-ca-file" is ${caPem === "" ? "missing" : "not a PEM certificate"} (is the API server run with --requestheader-client-ca-file?)`);
  }
  const usernameHeaders = jsonList(d, "requestheader-username-headers");
  if (usernameHeaders.length === 0) {
    throw new Error(`ConfigMap ${authConfigMap.namespace}/${authConfigMap.name}: "requestheader-username-headers" names no header`);
  }
  return {
    caPem,
    allowedNames: jsonList(d, "requestheader-allowed-names"),
    usernameHeaders,
    groupHeaders: jsonList(d, "requestheader-group-headers"),
    extraPrefixes: jsonList(d, "requestheader-extra-headers-prefix").map((p) => p.toLowerCase()),
    uidHeaders: jsonList(d, "requestheader-uid-headers"),
  };
}

/** Whether a front-proxy certificate with this CN is accepted. */
export function allowedName(config: RequestHeaderConfig, commonName: string | undefined): boolean {
  if (config.allowedNames.length === 0) return true;
  return commonName !== undefined && config.allowedNames.includes(commonName);
}

/** Values of a header the proxy may repeat (Headers joins repeats with ", "). */
function values(headers: Headers, name: string): string[] {
  const v = headers.get(name);
  return v === null ? [] : v.split(", ").map((s) => s.trim()).filter((s) => s !== "");
}

/** The user the API server speaks for; undefined when no username header is set. */
export function remoteUser(config: RequestHeaderConfig, headers: Headers): RemoteUser | undefined {
  let user: string | undefined;
  for (const h of config.usernameHeaders) {
    const v = headers.get(h)?.trim();
    if (v !== undefined && v !== "") {
      user = v;
      break;
    }
  }
  if (user === undefined) return undefined;
  const groups = config.groupHeaders.flatMap((h) => values(headers, h));
  const extra: Record<string, string[]> = {};
  for (const [name] of headers) {
    const prefix = config.extraPrefixes.find((p) => name.toLowerCase().startsWith(p));
    if (prefix === undefined) continue;
    let key: string;
    try {
      key = decodeURIComponent(name.slice(prefix.length)).toLowerCase();
    } catch {
      continue;
    }
    if (key === "") continue;
    extra[key] = [...(extra[key] ?? []), ...values(headers, name)];
  }
  let uid: string | undefined;
  for (const h of config.uidHeaders) {
    const v = headers.get(h)?.trim();
    if (v !== undefined && v !== "") {
      uid = v;
      break;
    }
  }
  return { user, groups, extra, ...(uid !== undefined ? { uid } : {}) };
}
