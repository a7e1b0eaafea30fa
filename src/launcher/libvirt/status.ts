/** Health vocabulary of a private libvirt stack. Pure types and helpers. */

export type DaemonName = "libvirtd" | "dbus-daemon" | "libvirt-dbus";
/** The namespace holder plus the three daemons. */
export type ComponentName = "namespace" | DaemonName;

/**
 * starting: spawned, not ready yet; running: ready; down: died (or failed to
 * become ready) and waits for its restart; stopped: stop() ended it.
 */
export type ComponentState = "starting" | "running" | "down" | "stopped";

export interface ComponentStatus {
  readonly name: ComponentName;
  readonly state: ComponentState;
  readonly pid: number | null;
  /** Restarts after the first start. */
  readonly restarts: number;
  /** Why it is (or last went) down, e.g. "killed by SIGKILL", "exited with status 1: <last stderr line>". */
  readonly reason: string | null;
  /** Date.now() of the last state change. */
  readonly since: number;
}

export interface StackHealth {
  /** Every component running and the D-Bus client through to libvirtd. */
  readonly ok: boolean;
  readonly components: readonly ComponentStatus[];
  /** Components not running (starting, down or stopped). */
  readonly down: readonly ComponentStatus[];
  readonly client: { readonly connected: boolean; readonly synced: boolean; readonly reason: string | null };
  /** "ok", or what is wrong, e.g. `libvirtd down: killed by SIGKILL (restart 1)`. */
  readonly summary: string;
}

export function summarize(components: readonly ComponentStatus[], client: StackHealth["client"]): StackHealth {
  const down = components.filter((c) => c.state !== "running");
  const problems = down.map((c) => {
    const why = c.reason !== null ? `: ${c.reason}` : "";
    const restarts = c.restarts > 0 ? ` (restart ${c.restarts})` : "";
    return `${c.name} ${c.state}${why}${restarts}`;
  });
  if (down.length === 0 && !client.synced) {
    problems.push(`D-Bus client not through to libvirtd${client.reason !== null ? `: ${client.reason}` : ""}`);
  }
  const ok = problems.length === 0;
  return { ok, components, down, client, summary: ok ? "ok" : problems.join("; ") };
}

/**
 * Reason text for a process exit. The last output line is added for exits
 * with a status or a crash signal (often the error); after SIGKILL/SIGTERM
 * from outside it is unrelated noise.
 */
export function describeExit(exitCode: number | null, signal: string | null, lastLine: string | null): string {
  const how = signal !== null ? `killed by ${signal}` : `exited with status ${exitCode ?? "unknown"}`;
  const external = signal === "SIGKILL" || signal === "SIGTERM";
  return !external && lastLine !== null && lastLine.length > 0 ? `${how}: ${lastLine}` : how;
}
