/** Throttled pull progress: bytes so far, total, and the recent rate. */

export interface PullProgress {
  /** Blob bytes received so far (config and layers). */
  readonly bytes: number;
  /** Sum of the blob sizes the manifest declares. */
  readonly totalBytes: number;
  /** Rate over the time since the previous report. */
  readonly bytesPerSecond: number;
}

export type ProgressListener = (progress: PullProgress) => void;

export const PROGRESS_INTERVAL_MS = 500;

export class ProgressMeter {
  private bytes = 0;
  private lastAt: number;
  private lastBytes = 0;
  private readonly listeners = new Set<ProgressListener>();

  constructor(
    readonly totalBytes: number,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastAt = this.now();
  }

  get received(): number {
    return this.bytes;
  }

  subscribe(listener: ProgressListener | undefined): void {
    if (listener !== undefined) this.listeners.add(listener);
  }

  add(bytes: number): void {
    this.bytes += bytes;
    if (this.listeners.size === 0) return;
    const t = this.now();
    if (t - this.lastAt >= this.intervalMs) this.emit(t);
  }

  /** A last report when the pull ends (if anything arrived since the previous one). */
  finish(): void {
    if (this.bytes !== this.lastBytes) this.emit(this.now());
  }

  private emit(t: number): void {
    const elapsed = Math.max(t - this.lastAt, 1);
    const report: PullProgress = {
      bytes: this.bytes,
      totalBytes: this.totalBytes,
      bytesPerSecond: Math.round(((this.bytes - this.lastBytes) * 1000) / elapsed),
    };
    this.lastAt = t;
    this.lastBytes = this.bytes;
    for (const listener of this.listeners) {
      try {
        listener(report);
      } catch {
        // A faulty listener must not break the pull.
      }
    }
  }
}
