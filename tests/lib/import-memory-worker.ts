/**
 * Runs one DataVolume import in a process of its own and prints its outcome
 * and the process's peak RSS (VmHWM), so a test can show that an import's
 * memory does not grow with what the server sends.
 *
 *   bun tests/lib/import-memory-worker.ts URL SIZE_BYTES CLAIM_DIR
 */
import { readFileSync } from "node:fs";
import { importDataVolume } from "../../src/storage/import/index.ts";
import { silentLog } from "../../src/storage/provider.ts";

const [url, size, claim] = process.argv.slice(2);
let error: string | null = null;
try {
  await importDataVolume({ name: "dv", source: { http: { url: url! } }, sizeBytes: Number(size), claim: { path: claim! } }, { claims: {}, secrets: {}, log: silentLog, limits: { stallMs: 5000 } });
} catch (e) {
  error = (e as Error).message;
}
const hwmKiB = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
process.stdout.write(JSON.stringify({ error, hwmKiB }) + "\n");
