/** The handler's side of the command API: validates what it sends and what comes back. */
import * as v from "valibot";
import { issuesToProblems } from "../../api/problem.ts";
import { assertSocketPathSafe } from "./safe-socket.ts";
import { errorReply, shutdownRequest, statusReply, syncRequest, type StatusReply, type SyncRequest } from "./schema.ts";

/** Validates a request before it leaves, with the same messages the server would give. */
function checked<T extends v.GenericSchema>(schema: T, value: unknown): v.InferOutput<T> {
  const r = v.safeParse(schema, value);
  if (r.success) return r.output;
  const p = issuesToProblems(r.issues)[0]!;
  throw new Error(`Cannot send launcher command: ${p.path}: ${p.rule}`);
}

export class LauncherClient {
  constructor(readonly socket: string) {}

  async #call(method: "GET" | "POST", route: string, payload?: unknown): Promise<StatusReply> {
    assertSocketPathSafe(this.socket);
    const res = await fetch(`http://launcher${route}`, {
      method,
      unix: this.socket,
      ...(payload !== undefined ? { body: JSON.stringify(payload), headers: { "content-type": "application/json" } } : {}),
    });
    const json: unknown = await res.json();
    if (!res.ok) {
      const e = v.safeParse(errorReply, json);
      throw new Error(`Launcher at "${this.socket}" refused ${route}: ${e.success ? e.output.error : `HTTP ${res.status}`}`);
    }
    const r = v.safeParse(statusReply, json);
    if (!r.success) {
      const p = issuesToProblems(r.issues)[0]!;
      throw new Error(`Launcher at "${this.socket}" answered ${route} with an invalid reply: ${p.path}: ${p.rule}`);
    }
    return r.output;
  }

  async sync(vmi: SyncRequest["vmi"]): Promise<StatusReply> {
    return this.#call("POST", "/v1/sync", checked(syncRequest, { vmi }));
  }

  async shutdown(graceSeconds: number): Promise<StatusReply> {
    return this.#call("POST", "/v1/shutdown", checked(shutdownRequest, { graceSeconds }));
  }

  async kill(): Promise<StatusReply> {
    return this.#call("POST", "/v1/kill", {});
  }

  async status(): Promise<StatusReply> {
    return this.#call("GET", "/v1/status");
  }
}
