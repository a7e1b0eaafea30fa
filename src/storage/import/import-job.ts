/** What every source's import step gets: where to write, how large, and how to report. */
import type { ClaimMount, RegistrySettings, StorageLog } from "../provider.ts";
import type { PullOptions, PullResult } from "../registry/index.ts";

/** Progress of one import, for the VM's status (CDI shows "NN.NN%"). */
export interface ImportProgress {
  readonly dataVolume: string;
  /** 0-100, or null while unknown (a server that sent no length). */
  readonly percent: number | null;
  /** Bytes taken from the source so far. */
  readonly bytes: number;
  readonly phase: "transfer" | "convert" | "done";
}

export interface ImportLimits {
  /** Nothing from the server for this long fails the import (default 30 s). */
  readonly stallMs?: number;
  /** The whole import may take at most this long (default 6 h). */
  readonly deadlineMs?: number;
}

export interface ImportContext {
  /** Claims by name: where a pvc source's claim is mounted. */
  readonly claims: Readonly<Record<string, ClaimMount>>;
  /** Secrets by name (a directory of keys): an http or registry source's secretRef. */
  readonly secrets: Readonly<Record<string, string>>;
  /** The node's disk cache and registry settings, for registry sources. */
  readonly registry?: RegistrySettings;
  readonly log: StorageLog;
  readonly qemuImg?: string;
  readonly limits?: ImportLimits;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Replaces the registry puller (tests). */
  readonly pull?: (reference: string, options: PullOptions) => Promise<PullResult>;
}

export const DEFAULT_STALL_MS = 30_000;
export const DEFAULT_DEADLINE_MS = 6 * 3600_000;

/** One import in progress. */
export interface ImportJob {
  /** The DataVolume's name (errors name it). */
  readonly name: string;
  readonly sizeBytes: number;
  /** The claim's directory (resolved). */
  readonly root: string;
  /** Where the source step leaves the raw disk (a temporary name in the claim). */
  readonly temp: string;
  /** A second temporary name in the claim, for an intermediate file. */
  readonly scratch: string;
  readonly qemuImg: string;
  /** Aborted at the deadline or by the caller. */
  readonly signal: AbortSignal;
  readonly ctx: ImportContext;
  progress(percent: number | null, bytes: number, phase: ImportProgress["phase"]): void;
}
