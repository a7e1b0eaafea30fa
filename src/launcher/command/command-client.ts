/** The handler's side of the command API: validates what it sends and what comes back. */
import * as v from "valibot";
import { issuesToProblems } from "../../api/problem.ts";
import { readCapped } from "../../storage/registry/body-reader.ts";
import { assertSocketPathSafe } from "./safe-socket.ts";
import { errorReply, shutdownRequest, statsReply, statusReply, syncRequest, type StatsReply, type StatusReply, type SyncRequest } from "./schema.ts";

/** Validates a request before it leaves, with the same messages the server would give. */
function checked<T extends v.GenericSchema>(schema: T, value: unknown): v.InferOutput<T> {
  const r = v.safeParse(schema, value);
  if (r.success) return r.output;
  const p = issuesToProblems(r.issues)[0]!;
  throw new Error(`Cannot send launcher command: ${p.path}: ${p.rule}`);
}

/** The largest answer the handler reads from a launcher (a stats reply of a VM with many disks and NICs is a few KiB). */
export const maxReplyBytes = 1 << 20;

async function readReply(res: Response, socket: string, route: string): Promise<unknown> {
  const tooLarge = () => new Error(`Launcher at "${socket}" answered ${route} with more than ${maxReplyBytes} bytes`);
  const bytes = res.body === null ? new Uint8Array() : await readCapped(res.body.getReader(), maxReplyBytes, tooLarge);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch {
    throw new Error(`Launcher at "${socket}" answered ${route} with a body that is not JSON (HTTP ${res.status})`);
  }
}

export interface CallOptions {
  /** Gives up (rejects) when this signal aborts, e.g. AbortSignal.timeout(ms). */
  signal?: AbortSignal;
}

export class LauncherClient {
  constructor(readonly socket: string) {}

  async #call<T extends v.GenericSchema>(reply: T, method: "GET" | "POST", route: string, payload?: unknown, opts: CallOptions = {}): Promise<v.InferOutput<T>> {
    assertSocketPathSafe(this.socket);
    const res = await fetch(`http://launcher${route}`, {
      method,
      unix: this.socket,
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      ...(payload !== undefined ? { body: JSON.stringify(payload), headers: { "content-type": "application/json" } } : {}),
    });
    // The launcher is less trusted than the handler: its answer is read with a cap, never buffered whole first.
    const json = await readReply(res, this.socket, route);
    if (!res.ok) {
      const e = v.safeParse(errorReply, json);
      throw new Error(`Launcher at "${this.socket}" refused ${route}: ${e.success ? e.output.error : `HTTP ${res.status}`}`);
    }
    const r = v.safeParse(reply, json);
    if (!r.success) {
      const p = issuesToProblems(r.issues)[0]!;
      throw new Error(`Launcher at "${this.socket}" answered ${route} with an invalid reply: ${p.path}: ${p.rule}`);
    }
    return r.output;
  }

  async sync(vmi: SyncRequest["vmi"]): Promise<StatusReply> {
    return this.#call(statusReply, "POST", "/v1/sync", checked(syncRequest, { vmi }));
  }

  async shutdown(graceSeconds: number): Promise<StatusReply> {
    return this.#call(statusReply, "POST", "/v1/shutdown", checked(shutdownRequest, { graceSeconds }));
  }

  async kill(): Promise<StatusReply> {
    return this.#call(statusReply, "POST", "/v1/kill", {});
  }

  async status(): Promise<StatusReply> {
    return this.#call(statusReply, "GET", "/v1/status");
  }

  /** libvirt's figures of the running domain (refused while none runs). */
  async stats(opts: CallOptions = {}): Promise<StatsReply> {
    return this.#call(statsReply, "GET", "/v1/stats", undefined, opts);
  }
}
