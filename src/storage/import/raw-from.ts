/**
 * Turning a disk file (downloaded, cached or another claim's) into the raw
 * disk of an import: its format read from its content, a qcow2 refused when
 * it would make qemu-img open another file or when its virtual size is
 * larger than the requested size, then converted by qemu-img to a sparse
 * raw file at the job's temporary name.
 */
import { rename } from "node:fs/promises";
import { readDiskHeader } from "../disk-header.ts";
import { convertToRaw, QemuImgError } from "../qemu-img.ts";
import { formatBytes } from "../registry/limits.ts";
import { StorageError } from "../provider.ts";
import type { ImportJob } from "./import-job.ts";

/**
 * Makes `job.temp` the raw disk of `src`. `own` says `src` is the job's
 * own file in the claim (then a raw one is renamed, not copied).
 */
export async function rawFrom(job: ImportJob, src: string, own: boolean): Promise<void> {
  const header = await readDiskHeader(src, { allowBlock: true }).catch((cause: unknown) => {
    throw new StorageError(job.name, "invalid", `cannot read the image "${src}": ${(cause as Error).message}`, { cause });
  });
  if (header.backingFile !== undefined) {
    throw new StorageError(job.name, "unsafe", `the image is a qcow2 with the backing file "${header.backingFile}"; an imported disk must stand alone`);
  }
  if (header.externalDataFile === true) throw new StorageError(job.name, "unsafe", "the image is a qcow2 with an external data file; an imported disk must stand alone");
  const size = header.format === "qcow2" ? (header.virtualSize ?? 0) : header.bytes;
  if (size > job.sizeBytes) {
    throw new StorageError(job.name, "invalid", `the image's ${header.format === "qcow2" ? "virtual size" : "size"} is ${formatBytes(size)}, larger than the requested ${formatBytes(job.sizeBytes)}`);
  }
  if (header.format === "raw" && own) {
    await rename(src, job.temp);
    return;
  }
  job.progress(null, 0, "convert");
  try {
    await convertToRaw(job.qemuImg, src, header.format, job.temp, job.signal);
  } catch (cause) {
    const reason = cause instanceof QemuImgError ? cause.message : (cause as Error).message;
    throw new StorageError(job.name, "tool", `cannot convert the ${header.format} image to raw: ${reason}`, { cause });
  }
}
