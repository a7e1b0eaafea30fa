/**
 * libvirt's numeric domain states and lifecycle events (virDomainState,
 * virDomainEventType and its detail enums, libvirt 9.0) as names. Pure.
 */

export type DomainStateName =
  | "nostate"
  | "running"
  | "blocked"
  | "paused"
  | "shutdown"
  | "shutoff"
  | "crashed"
  | "pmsuspended";

const STATES: readonly DomainStateName[] = [
  "nostate",
  "running",
  "blocked",
  "paused",
  "shutdown",
  "shutoff",
  "crashed",
  "pmsuspended",
];

/** virDomainState -> name; unknown values (newer libvirt) read as "nostate". */
export function domainStateName(code: number): DomainStateName {
  return STATES[code] ?? "nostate";
}

export type DomainEventType =
  | "Defined"
  | "Undefined"
  | "Started"
  | "Suspended"
  | "Resumed"
  | "Stopped"
  | "Shutdown"
  | "PMSuspended"
  | "Crashed";

const EVENT_TYPES: readonly DomainEventType[] = [
  "Defined",
  "Undefined",
  "Started",
  "Suspended",
  "Resumed",
  "Stopped",
  "Shutdown",
  "PMSuspended",
  "Crashed",
];

const EVENT_DETAILS: Readonly<Record<DomainEventType, readonly string[]>> = {
  Defined: ["Added", "Updated", "Renamed", "FromSnapshot"],
  Undefined: ["Removed", "Renamed"],
  Started: ["Booted", "Migrated", "Restored", "FromSnapshot", "Wakeup"],
  Suspended: [
    "Paused",
    "Migrated",
    "IOError",
    "Watchdog",
    "Restored",
    "FromSnapshot",
    "APIError",
    "PostCopy",
    "PostCopyFailed",
  ],
  Resumed: ["Unpaused", "Migrated", "FromSnapshot", "PostCopy", "PostCopyFailed"],
  Stopped: ["Shutdown", "Destroyed", "Crashed", "Migrated", "Saved", "Failed", "FromSnapshot"],
  Shutdown: ["Finished", "Guest", "Host"],
  PMSuspended: ["Memory", "Disk"],
  Crashed: ["Panicked", "CrashLoaded"],
};

/** virDomainEventType -> name; null for types this libvirt did not have. */
export function domainEventType(code: number): DomainEventType | null {
  return EVENT_TYPES[code] ?? null;
}

/** The detail enum of an event type -> name, or "Unknown(<n>)". */
export function domainEventDetail(type: DomainEventType, code: number): string {
  return EVENT_DETAILS[type][code] ?? `Unknown(${code})`;
}

/** Flags of virDomainShutdownFlags used by the client. */
export const SHUTDOWN_DEFAULT = 0;
export const SHUTDOWN_ACPI_POWER_BTN = 1;
/** virDomainDestroyFlags */
export const DESTROY_DEFAULT = 0;
export const DESTROY_GRACEFUL = 1;
