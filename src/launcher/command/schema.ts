/**
 * The handler <-> launcher command API, version 1: one schema module, used
 * to validate requests and replies on both ends (as KubeVirt's .proto is).
 * Routes: POST /v1/sync, POST /v1/shutdown, POST /v1/kill, GET /v1/status,
 * GET /v1/stats (libvirt's figures of the running domain, for the handler's
 * /metrics; 409 when no domain runs).
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
  /** The launcher's own helpers (libvirtd, dbus-daemon, libvirt-dbus) are up. */
  ready: v.boolean(),
});

/** A figure libvirt gave; absent when it has none (never a zero for unknown). */
const figure = v.optional(v.number());

/** libvirt's domain stats (src/launcher/libvirt/domain-stats.ts), devices also by the VMI's names. */
export const statsReply = v.strictObject({
  domain: v.string(),
  state: v.optional(v.strictObject({ state: v.number(), reason: v.number() })),
  cpu: v.optional(v.strictObject({ timeNs: figure, userNs: figure, systemNs: figure })),
  /** KiB, as libvirt gives them; the faults are counts. */
  balloon: v.strictObject({
    currentKiB: figure, maximumKiB: figure, rssKiB: figure, availableKiB: figure, usableKiB: figure, unusedKiB: figure,
    diskCachesKiB: figure, swapInKiB: figure, swapOutKiB: figure, majorFaults: figure, minorFaults: figure,
  }),
  vcpus: v.array(v.strictObject({ id: v.number(), state: figure, timeNs: figure, waitNs: figure, delayNs: figure })),
  nets: v.array(v.strictObject({
    /** The host device (tap). */
    name: v.string(),
    /** The VMI's interface name, when the NIC is one of the VMI's. */
    interface: v.optional(v.string()),
    rxBytes: figure, rxPackets: figure, rxErrors: figure, rxDropped: figure,
    txBytes: figure, txPackets: figure, txErrors: figure, txDropped: figure,
  })),
  blocks: v.array(v.strictObject({
    /** The target device ("vda"). */
    name: v.string(),
    /** The VMI's disk name, when the disk is one of the VMI's. */
    drive: v.optional(v.string()),
    path: v.optional(v.string()),
    readRequests: figure, readBytes: figure, readTimeNs: figure,
    writeRequests: figure, writeBytes: figure, writeTimeNs: figure,
    flushRequests: figure, flushTimeNs: figure,
  })),
});

export const errorReply = v.strictObject({ error: v.string(), field: v.optional(v.string()) });

export type SyncRequest = v.InferOutput<typeof syncRequest>;
export type ShutdownRequest = v.InferOutput<typeof shutdownRequest>;
export type StatusReply = v.InferOutput<typeof statusReply>;
export type StatsReply = v.InferOutput<typeof statsReply>;
export type DomainState = (typeof domainStates)[number];
