/**
 * JSON requests to the API server over kubeFetch (the kubeconfig's
 * credentials and TLS): get, create, patch (merge, JSON Patch, server-side
 * apply), delete. A status other than 2xx throws a KubeError carrying the
 * code and the API server's message.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeFetch } from "./api-client.ts";

export class KubeError extends Error {
  constructor(message: string, readonly code: number, readonly reason?: string) {
    super(message);
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeError && e.code === 409;

export type PatchType = "merge" | "json" | "apply";
const patchContentType: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  apply: "application/apply-patch+yaml",
};

/** The REST path of a resource collection, or of one object when `name` is given. */
export function resourcePath(r: { group: string; version: string; plural: string }, namespace?: string, name?: string): string {
  const base = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const ns = namespace === undefined ? "" : `/namespaces/${encodeURIComponent(namespace)}`;
  return `${base}${ns}/${r.plural}${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
}

export class KubeRest {
  constructor(readonly kc: KubeConfig) {}

  async request<T>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
    const init: RequestInit = { method, headers: { accept: "application/json" } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { accept: "application/json", "content-type": contentType };
    }
    let res: Response;
    try {
      res = await kubeFetch(this.kc, path, init);
    } catch (cause) {
      throw new KubeError(`Cannot ${method} "${path}": ${(cause as Error).message}`, 0);
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 2000);
      let reason: string | undefined;
      try {
        const status = JSON.parse(text) as { message?: string; reason?: string };
        message = status.message ?? message;
        reason = status.reason;
      } catch {
        // Not a Status: keep the text.
      }
      throw new KubeError(`Cannot ${method} "${path}": ${res.status} ${message}`, res.status, reason);
    }
    return (text === "" ? {} : JSON.parse(text)) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  patch<T>(path: string, type: PatchType, body: unknown, query = ""): Promise<T> {
    return this.request<T>("PATCH", path + query, body, patchContentType[type]);
  }

  /** Server-side apply as `fieldManager`, taking over fields others own. */
  apply<T>(path: string, body: unknown, fieldManager: string): Promise<T> {
    return this.patch<T>(path, "apply", body, `?fieldManager=${encodeURIComponent(fieldManager)}&force=true`);
  }

  delete<T>(path: string, options?: { preconditions?: { uid?: string; resourceVersion?: string }; propagationPolicy?: string }): Promise<T> {
    return this.request<T>("DELETE", path, options === undefined ? undefined : { apiVersion: "v1", kind: "DeleteOptions", ...options });
  }
}
