/** `bunvirt restart NAME [--grace-period N --force] [--dry-run]`: virtctl restart. */
import type { VirtConnection } from "./connection.ts";
import { dryRunOption, lifecycleRequest, type VirtIo } from "./put-subresource.ts";
import { forcedGracePeriod } from "./stop.ts";

export const restartFlags = { "grace-period": { type: "string" }, force: { type: "boolean" }, "dry-run": { type: "boolean" } } as const;

export async function restartVm(conn: VirtConnection, name: string, values: Record<string, unknown>, io: VirtIo): Promise<number> {
  const grace = forcedGracePeriod(values);
  const body = { ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}), ...dryRunOption(values["dry-run"] === true, io) };
  const prefix = grace !== undefined ? "error force restarting VirtualMachine: " : "error restarting VirtualMachine: ";
  return lifecycleRequest(conn, name, "restart", body, prefix, io);
}
