/**
 * One pass of the handler over one VMI on its node, pure (KubeVirt's
 * virt-handler vm.go, trimmed): which launcher command to send and the
 * VMI's status as the launcher and its pod show it.
 * - Scheduled (the controller's last phase) and the launcher answers with no
 *   domain yet: `sync`. A running domain makes the VMI Running, with the
 *   launcher's interfaces and their addresses.
 * - The launcher exits once its domain has ended: the compute container's
 *   exit code (src/launcher/vm/outcome.ts) makes the VMI Succeeded (the guest
 *   powered off) or Failed with a reason.
 * - A deleted VMI: `shutdown` with its grace period, then `kill` if the
 *   domain still runs; the VMI is Succeeded once the domain is gone.
 * The Ready condition is the controller's (it mirrors the pod once the VMI
 * is Running); the handler writes no condition, so the two never overwrite
 * each other's list.
 */
import { exitCodes } from "../../launcher/vm/outcome.ts";
import type { StatusReply } from "../../launcher/command/schema.ts";
import { computeContainerName, defaultGracePeriodSeconds } from "../controller/launcher-pod.ts";
import { isDeleting, isFinal, type Vmi, type VmiPhase, type VmiStatus } from "../controller/model.ts";
import type { PodView } from "../controller/reconcile-vmi.ts";
import { kubeTime } from "../controller/vm-status.ts";

/** What the launcher said when asked, or why it could not be asked. */
export type LauncherView =
  | { kind: "status"; reply: StatusReply }
  | { kind: "unreachable"; reason: string };

export type LauncherCommand = { kind: "none" } | { kind: "sync" } | { kind: "shutdown"; graceSeconds: number } | { kind: "kill" };

export interface VmiDecisionInput {
  vmi: Vmi;
  /** The VMI's launcher pod on this node, if there is one. */
  pod: PodView | null;
  /** Null when the launcher was not asked (no pod, or its container is not running). */
  launcher: LauncherView | null;
  now: Date;
}

export interface VmiDecision {
  command: LauncherCommand;
  status: VmiStatus;
  statusChanged: boolean;
  /** Look again after this many ms instead of the next resync: a launcher that is starting (its socket not up yet). */
  lookAgainMs?: number;
}

/** How soon a starting launcher is asked again (the process is up, its command socket a moment later). */
export const startingLauncherRetryMs = 100;
/** For how long after the VMI was Scheduled an unreachable launcher counts as starting (then: the resync's pace). */
const startingLauncherSeconds = 60;

function scheduledSince(vmi: Vmi): number | null {
  const t = vmi.status?.phaseTransitionTimestamps?.findLast((p) => p.phase === "Scheduled")?.phaseTransitionTimestamp;
  return t === undefined ? null : Date.parse(t);
}

/** Domain states in which a guest still exists (libvirt's). */
const alive = new Set<StatusReply["state"]>(["running", "blocked", "paused", "pmsuspended", "nostate", "shutdown"]);

/** status.interfaces[] of a VMI, as KubeVirt reports them. */
export interface VmiInterfaceStatus {
  name: string;
  mac: string;
  ipAddress?: string;
  ipAddresses: string[];
  interfaceName?: string;
}

/** The VMI's interfaces from the launcher's status (ipAddress is the first address). */
export function interfacesOf(reply: StatusReply): VmiInterfaceStatus[] {
  return reply.interfaces.map((i) => ({
    name: i.name,
    mac: i.mac,
    ...(i.ipAddresses[0] !== undefined ? { ipAddress: i.ipAddresses[0] } : {}),
    ipAddresses: [...i.ipAddresses],
    ...(i.podInterface !== undefined ? { interfaceName: i.podInterface } : {}),
  }));
}

/** The final phase and reason of a launcher that exited with `code` (outcome.ts's exit codes). */
export function endOfLauncher(code: number, deleting: boolean): { phase: VmiPhase; reason?: string } {
  if (code === exitCodes.poweroff) return { phase: "Succeeded" };
  if (code === exitCodes.destroyed) return deleting ? { phase: "Succeeded" } : { phase: "Failed", reason: "DomainDestroyed" };
  if (code === exitCodes.crashed) return { phase: "Failed", reason: "GuestCrashed" };
  if (code === exitCodes.failed) return { phase: "Failed", reason: "LauncherFailed" };
  return { phase: "Failed", reason: "LauncherExited" };
}

function terminatedCode(pod: PodView | null): number | null {
  const c = pod?.status?.containerStatuses?.find((s) => s.name === computeContainerName);
  const code = c?.state?.terminated?.exitCode;
  return typeof code === "number" ? code : null;
}

export function decideVmi(input: VmiDecisionInput): VmiDecision {
  const { vmi, pod, launcher, now } = input;
  const before = vmi.status ?? {};
  const status: VmiStatus = structuredClone(before);
  let phase = before.phase;
  let command: LauncherCommand = { kind: "none" };
  const deleting = isDeleting(vmi);

  const reply = launcher?.kind === "status" ? launcher.reply : null;
  const exited = terminatedCode(pod);

  if (isFinal(vmi) || (phase !== "Scheduled" && phase !== "Running")) {
    // Not the handler's yet (Pending/Scheduling: the controller's), or over.
    return { command, status, statusChanged: false };
  }
  const since = scheduledSince(vmi);
  const starting = since !== null && now.getTime() - since < startingLauncherSeconds * 1000;
  if (phase === "Scheduled" && !deleting && exited === null && launcher?.kind === "unreachable" && starting) {
    return { command, status, statusChanged: false, lookAgainMs: startingLauncherRetryMs };
  }

  if (exited !== null) {
    const end = endOfLauncher(exited, deleting);
    phase = end.phase;
    if (end.reason !== undefined) status.reason = end.reason;
  } else if (reply !== null) {
    const domainAlive = alive.has(reply.state);
    if (deleting) {
      if (domainAlive) {
        // The launcher destroys the domain once the grace period is over; see afterShutdown for the kill.
        command = { kind: "shutdown", graceSeconds: vmi.spec.terminationGracePeriodSeconds ?? defaultGracePeriodSeconds };
      } else if (reply.state === "shutoff" || phase === "Scheduled") {
        // Gone, or never started: nothing of the guest is left.
        phase = "Succeeded";
      }
    } else if (reply.state === "absent" && phase === "Scheduled") {
      command = { kind: "sync" };
    } else if (domainAlive && reply.state !== "nostate") {
      phase = "Running";
      const interfaces = interfacesOf(reply);
      if (!Bun.deepEquals(interfaces, before.interfaces ?? [])) status.interfaces = interfaces;
    }
  }

  if (phase !== before.phase) {
    // A guest that is gone has no interfaces left to report.
    if (phase === "Succeeded" || phase === "Failed") delete status.interfaces;
    status.phase = phase!;
    status.phaseTransitionTimestamps = [...(before.phaseTransitionTimestamps ?? []), { phase: phase!, phaseTransitionTimestamp: kubeTime(now) }];
  }
  return { command, status, statusChanged: !Bun.deepEquals(status, before) };
}

/** After `shutdown` answered: `kill` when the domain is somehow still there (KubeVirt's second step). */
export function afterShutdown(reply: StatusReply): LauncherCommand {
  return alive.has(reply.state) ? { kind: "kill" } : { kind: "none" };
}
