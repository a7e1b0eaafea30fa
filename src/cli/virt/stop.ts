/** `bunvirt stop NAME [--grace-period N --force] [--dry-run]`: virtctl stop. */
import { UsageError } from "../usage.ts";
import type { VirtConnection } from "./connection.ts";
import { gracePeriodFlag } from "./flags.ts";
import { dryRunOption, lifecycleRequest, type VirtIo } from "./put-subresource.ts";

export const stopFlags = { "grace-period": { type: "string" }, force: { type: "boolean" }, "dry-run": { type: "boolean" } } as const;

/** virtctl's rule for stop and restart: --grace-period only with --force, and --force only with --grace-period. */
export function forcedGracePeriod(values: Record<string, unknown>): number | undefined {
  const grace = gracePeriodFlag(values["grace-period"] as string | undefined);
  if ((grace !== undefined) !== (values.force === true)) throw new UsageError("Must both use --force=true and set --grace-period.");
  return grace;
}

export async function stopVm(conn: VirtConnection, name: string, values: Record<string, unknown>, io: VirtIo): Promise<number> {
  const grace = forcedGracePeriod(values);
  const body = { ...(grace !== undefined ? { gracePeriod: grace } : {}), ...dryRunOption(values["dry-run"] === true, io) };
  const prefix = grace !== undefined ? "error force stopping VirtualMachine: " : "error stopping VirtualMachine ";
  return lifecycleRequest(conn, name, "stop", body, prefix, io);
}
