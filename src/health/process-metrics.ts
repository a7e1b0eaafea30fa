/**
 * The role's own process, in the Prometheus client libraries' names:
 * resident memory, CPU time (user + system) and start time.
 */
import type { Metrics } from "./metrics.ts";

/** Seconds since the epoch when this process started. */
const startTimeSeconds = Math.round((Date.now() / 1000 - process.uptime()) * 1000) / 1000;

export function processMetrics(m: Metrics): void {
  const cpu = process.cpuUsage();
  m.set("process_resident_memory_bytes", "Resident memory size in bytes.", process.memoryUsage.rss());
  m.setCounter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", (cpu.user + cpu.system) / 1e6);
  m.set("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", startTimeSeconds);
}
