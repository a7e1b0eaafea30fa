/**
 * PUT of a VM's start/stop/restart subresource through the API server, with
 * KubeVirt's options as the JSON body (what virtctl sends), and the
 * outcome printed as virtctl prints it.
 */
import { kubeFetch } from "../../kube/api-client.ts";
import { subresourcePath, type VirtConnection } from "./connection.ts";
import { statusMessage } from "./status-message.ts";

export interface VirtIo {
  /** A line for stdout. */
  out(line: string): void;
  /** A line for stderr. */
  err(line: string): void;
}

/** How long one request may take (the API server answers these at once; a stalled one is given up). */
export const requestTimeoutMs = 60_000;

export type PutResult = { ok: true } | { ok: false; code: number; message: string };

export async function putSubresource(conn: VirtConnection, name: string, subresource: "start" | "stop" | "restart", body: object): Promise<PutResult> {
  const path = subresourcePath(conn.namespace, "virtualmachines", name, subresource);
  let res: Response;
  try {
    res = await kubeFetch(conn.kc, path, {
      method: "PUT",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", accept: "application/json" },
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
  } catch (e) {
    const why = (e as Error).name === "TimeoutError" ? `no answer within ${requestTimeoutMs / 1000} s` : (e as Error).message;
    return { ok: false, code: 0, message: `Put "${conn.server}${path}": ${why}` };
  }
  if (res.ok) {
    await res.body?.cancel().catch(() => undefined);
    return { ok: true };
  }
  return { ok: false, code: res.status, message: await statusMessage(res, `put virtualmachines.kubevirt.io ${name}`) };
}

/** Runs one lifecycle request and prints virtctl's lines: exit 0 when accepted, 1 with `errorPrefix` and the server's message when not. */
export async function lifecycleRequest(
  conn: VirtConnection,
  name: string,
  subresource: "start" | "stop" | "restart",
  body: object,
  errorPrefix: string,
  io: VirtIo,
): Promise<number> {
  const r = await putSubresource(conn, name, subresource, body);
  if (!r.ok) {
    io.err(`${errorPrefix}${r.message}`);
    return 1;
  }
  io.out(`VM ${name} was scheduled to ${subresource}`);
  return 0;
}

/** KubeVirt's dryRun option: virtctl prints "Dry Run execution" and sends ["All"]. */
export function dryRunOption(dryRun: boolean, io: VirtIo): { dryRun?: string[] } {
  if (!dryRun) return {};
  io.out("Dry Run execution");
  return { dryRun: ["All"] };
}
