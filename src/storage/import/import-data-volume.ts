/**
 * Importing a DataVolume's source into its claim, as CDI's importer does:
 * the claim's disk.img (filesystem mode) is written under a temporary name
 * in the claim and published last, without ever replacing a disk.img that
 * is there. A published disk.img is the mark of a finished import: an
 * import is never redone (KubeVirt keeps a DataVolume's claim across VM
 * restarts). A failed or stopped import leaves nothing behind; leftovers of
 * an import that died with its process are removed by the next one.
 */
import { constants } from "node:fs";
import { open, readdir, rm, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import { maxDiskBytes } from "../../api/limits.ts";
import { dataVolumeSourceNames, type DataVolumeSource } from "../../api/v1/data-volume.ts";
import { claimDiskName } from "../claim-disk.ts";
import { isTempFor, lstatOrNull, publishNoClobber, realpathOrNull, tempPathFor } from "../files.ts";
import { StorageError, type ClaimMount } from "../provider.ts";
import { formatBytes, formatSeconds } from "../registry/limits.ts";
import { importClone } from "./clone-import.ts";
import { abortReason, importHttp } from "./http-import.ts";
import { DEFAULT_DEADLINE_MS, type ImportContext, type ImportJob, type ImportProgress } from "./import-job.ts";
import { importRegistry } from "./registry-import.ts";
import { defaultQemuImg } from "../qemu-img.ts";
import { pidAlive } from "../../process/pid-alive.ts";

export interface ImportTarget {
  /** The DataVolume's name. */
  readonly name: string;
  readonly source: DataVolumeSource;
  /** The requested size (resources.requests.storage), in bytes. */
  readonly sizeBytes: number;
  /** The DataVolume's claim, as the pod (or `--claim`) has it. */
  readonly claim: ClaimMount;
}

export interface ImportOutcome {
  /** The claim's disk. */
  readonly path: string;
  /** "imported" by this call, or "present": an earlier import finished (nothing was fetched). */
  readonly state: "imported" | "present";
}

const SECTOR = 512;

function sourceKind(target: ImportTarget): keyof DataVolumeSource {
  const set = dataVolumeSourceNames.filter((k) => target.source[k] !== undefined);
  if (set.length !== 1) {
    throw new StorageError(target.name, "invalid", set.length === 0 ? `it has no source; set one of ${dataVolumeSourceNames.join(", ")}` : `it has ${set.length} sources (${set.join(", ")}); set exactly one`);
  }
  return set[0] as keyof DataVolumeSource;
}

/** The claim's directory, resolved; block-mode claims are refused (not imported into yet). */
async function claimRoot(target: ImportTarget): Promise<string> {
  const info = await stat(target.claim.path).catch((cause: NodeJS.ErrnoException) => {
    throw new StorageError(target.name, "missing", `the claim's mount "${target.claim.path}" is not there (${cause.code ?? cause.message})`, { cause });
  });
  if (info.isBlockDevice()) throw new StorageError(target.name, "invalid", "importing into a block-mode claim is not supported yet; use volumeMode Filesystem");
  if (!info.isDirectory()) throw new StorageError(target.name, "invalid", `the claim's mount "${target.claim.path}" is not a directory`);
  const root = await realpathOrNull(target.claim.path);
  if (root === null) throw new StorageError(target.name, "missing", `the claim's mount "${target.claim.path}" is not there`);
  return root;
}

/** Removes temporary files of imports whose process is gone (a live one's are left alone). */
async function removeDeadLeftovers(root: string, final: string): Promise<void> {
  for (const n of await readdir(root).catch(() => [] as string[])) {
    if (!isTempFor(final, n)) continue;
    const pid = Number(/\.tmp-(\d+)-/.exec(n)?.[1]);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) continue;
    if (pid === process.pid) continue;
    await rm(join(root, n), { force: true });
  }
}

async function makeBlank(temp: string): Promise<void> {
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o660);
  await handle.close();
}

/** Grows the raw disk to the requested size (whole sectors), sparse, and makes it durable. */
async function finishRaw(job: ImportJob): Promise<void> {
  const info = await stat(job.temp);
  const size = Math.max(info.size, Math.floor(job.sizeBytes / SECTOR) * SECTOR);
  if (info.size > job.sizeBytes) throw new StorageError(job.name, "invalid", `the disk is ${formatBytes(info.size)}, larger than the requested ${formatBytes(job.sizeBytes)}`);
  await truncate(job.temp, size);
  const handle = await open(job.temp, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Imports `target.source` into its claim; errors are StorageErrors "Cannot import DataVolume NAME: ...". */
export async function importDataVolume(target: ImportTarget, ctx: ImportContext): Promise<ImportOutcome> {
  try {
    return await importInto(target, ctx);
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    throw new StorageError(error.volume, error.code, error.reason, { cause: error.cause, action: "import", subject: "DataVolume" });
  }
}

async function importInto(target: ImportTarget, ctx: ImportContext): Promise<ImportOutcome> {
  const kind = sourceKind(target);
  if (!Number.isSafeInteger(target.sizeBytes) || target.sizeBytes < 2 ** 20 || target.sizeBytes > maxDiskBytes) {
    throw new StorageError(target.name, "invalid", `the requested size ${target.sizeBytes} bytes is not between 1Mi and 2Pi`);
  }
  if (target.claim.capacity !== undefined && target.sizeBytes > target.claim.capacity) {
    throw new StorageError(target.name, "invalid", `the requested size ${formatBytes(target.sizeBytes)} is larger than the claim's capacity ${formatBytes(target.claim.capacity)}`);
  }
  const report = (p: Omit<ImportProgress, "dataVolume">): void => ctx.onProgress?.({ dataVolume: target.name, ...p });
  const root = await claimRoot(target);
  const final = join(root, claimDiskName);
  if ((await lstatOrNull(final)) !== null) {
    report({ percent: 100, bytes: 0, phase: "done" });
    return { path: final, state: "present" };
  }
  await removeDeadLeftovers(root, final);
  const deadlineMs = ctx.limits?.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error(`it took longer than ${formatSeconds(deadlineMs)}, the import's deadline`)), deadlineMs);
  const signal = ctx.signal !== undefined ? AbortSignal.any([ctx.signal, deadline.signal]) : deadline.signal;
  const job: ImportJob = {
    name: target.name,
    sizeBytes: target.sizeBytes,
    root,
    temp: tempPathFor(final),
    scratch: tempPathFor(final),
    qemuImg: ctx.qemuImg ?? defaultQemuImg,
    signal,
    ctx,
    progress: (percent, bytes, phase) => report({ percent, bytes, phase }),
  };
  const started = performance.now();
  try {
    switch (kind) {
      case "blank":
        await makeBlank(job.temp);
        break;
      case "http":
        await importHttp(job, target.source.http!);
        break;
      case "registry":
        await importRegistry(job, target.source.registry!);
        break;
      case "pvc":
        await importClone(job, target.source.pvc!);
        break;
    }
    if (signal.aborted) throw new StorageError(target.name, "io", `the import was stopped: ${abortReason(signal)}`);
    await finishRaw(job);
    const published = await publishNoClobber(job.temp, final);
    if (published === "exists") ctx.log.warn("another import published the claim's disk first; keeping it", { dataVolume: target.name, path: final });
  } catch (error) {
    if (error instanceof StorageError) throw error;
    if (signal.aborted) throw new StorageError(target.name, "io", `the import was stopped: ${abortReason(signal)}`, { cause: error });
    throw new StorageError(target.name, "io", (error as Error).message, { cause: error });
  } finally {
    clearTimeout(timer);
    await rm(job.temp, { force: true });
    await rm(job.scratch, { force: true });
  }
  report({ percent: 100, bytes: 0, phase: "done" });
  ctx.log.info("imported a DataVolume into its claim", { dataVolume: target.name, source: kind, path: final, seconds: Math.round(performance.now() - started) / 1000 });
  return { path: final, state: "imported" };
}
