/** `bunvirt start NAME [--paused] [--dry-run]`: virtctl start. */
import type { VirtConnection } from "./connection.ts";
import { dryRunOption, lifecycleRequest, type VirtIo } from "./put-subresource.ts";

export const startFlags = { paused: { type: "boolean" }, "dry-run": { type: "boolean" } } as const;

export async function startVm(conn: VirtConnection, name: string, values: Record<string, unknown>, io: VirtIo): Promise<number> {
  // StartOptions as virtctl marshals it: empty fields left out, so a plain start sends {}.
  const body = { ...(values.paused === true ? { paused: true } : {}), ...dryRunOption(values["dry-run"] === true, io) };
  return lifecycleRequest(conn, name, "start", body, "Error starting VirtualMachine ", io);
}
