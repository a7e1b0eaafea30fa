/**
 * The handler <-> launcher command API, version 1: one schema module, used
 * to validate requests and replies on both ends (as KubeVirt's .proto is).
 * Routes: POST /v1/sync, POST /v1/shutdown, POST /v1/kill, GET /v1/status.
 */
import * as v from "valibot";
import { admitVmi } from "../../api/admission/index.ts";
import type { Problem } from "../../api/problem.ts";
import { virtualMachineInstance } from "../../api/v1/vmi.ts";

export const apiVersion = "v1";

export const syncRequest = v.strictObject({ vmi: virtualMachineInstance });
/**
 * Beyond the shape: admission's rules on the VMI, the same as `bunvirt
 * validate` applies (names are DNS-1123, the spec is admissible).
 */
export function syncProblems(req: v.InferOutput<typeof syncRequest>): Problem[] {
  return admitVmi(req.vmi, "vmi");
}

export const shutdownRequest = v.strictObject({
  /** Seconds the guest gets for an ACPI shutdown before the domain is destroyed. */
  graceSeconds: v.pipe(v.number(), v.integer("must be an integer"), v.minValue(0, "must be at least 0")),
});
export const killRequest = v.strictObject({});

export const domainStates = ["nostate", "running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended", "absent"] as const;

export const guestInterface = v.strictObject({
  name: v.string(),
  mac: v.string(),
  ipAddresses: v.array(v.string()),
  podInterface: v.optional(v.string()),
});

export const statusReply = v.strictObject({
  /** libvirt's domain state, or "absent" before sync / after the domain is gone. */
  state: v.picklist(domainStates),
  /** Why it is in that state, in words (e.g. "shutdown by guest", "destroyed"). */
  reason: v.string(),
  domain: v.optional(v.string()),
  startedAt: v.optional(v.string()),
  interfaces: v.array(guestInterface),
  /** The launcher's own helpers (libvirtd, virtlogd, …) are up. */
  ready: v.boolean(),
});

export const errorReply = v.strictObject({ error: v.string(), field: v.optional(v.string()) });

export type SyncRequest = v.InferOutput<typeof syncRequest>;
export type ShutdownRequest = v.InferOutput<typeof shutdownRequest>;
export type StatusReply = v.InferOutput<typeof statusReply>;
export type DomainState = (typeof domainStates)[number];
