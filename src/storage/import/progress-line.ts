/**
 * The importer's progress as one stdout line, and its reading back: the
 * protocol between `bunvirt import` (which prints the lines) and the
 * controller (which reads the importer pod's log tail for the VM's status).
 * The percent is CDI's form: two decimals and a percent sign.
 */
import type { ImportProgress } from "./import-job.ts";

export function percentText(percent: number): string {
  return `${Math.min(100, Math.max(0, percent)).toFixed(2)}%`;
}

/** One line for stdout, or null when it comes too soon after the last one (at most one a second, the last always). */
export function progressLine(p: ImportProgress, sinceLastMs: number): string | null {
  if (p.phase !== "done" && sinceLastMs < 1000) return null;
  if (p.phase === "done") return `progress: ${percentText(100)}`;
  if (p.percent === null) return `progress: N/A (${(p.bytes / 2 ** 20).toFixed(1)} MiB, ${p.phase})`;
  return `progress: ${percentText(p.percent)} (${p.phase})`;
}

const percentLine = /^progress: (\d{1,3}\.\d{2})%/;

/** The percent of the last progress line in a log's tail that has one (null: none has, e.g. N/A or no line yet). */
export function lastPercent(log: string): number | null {
  const lines = log.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = percentLine.exec(lines[i]!.trim());
    if (m !== null) return Math.min(100, Number(m[1]));
  }
  return null;
}
