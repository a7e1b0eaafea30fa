/**
 * emptyDisk: a sparse qcow2 of the given capacity in the VM's state
 * directory, made at prepare and deleted at cleanup (KubeVirt's emptyDisk
 * lives as long as the VMI).
 */
import { rm } from "node:fs/promises";
import { pathUnder } from "../paths/index.ts";
import { parseQuantity } from "../api/quantity.ts";
import { readDiskHeader } from "./disk-header.ts";
import { lstatOrNull, publishNoClobber, removeIfPresent, removeTempLeftovers, requireStateDir, tempPathFor } from "./files.ts";
import { checkVolumeName, StorageError, type PreparedDisk, type Volume, type VolumeContext, type VolumeProvider } from "./provider.ts";
import { createEmptyQcow2, defaultQemuImg } from "./qemu-img.ts";

export interface EmptyDiskOptions {
  readonly qemuImg?: string;
}

const SECTOR = 512;

export function emptyDiskPath(stateDir: string, volume: string): string {
  return pathUnder(stateDir, `${volume}.emptydisk.qcow2`);
}

/** The capacity in bytes, rounded up to whole 512-byte sectors (as qemu-img does). */
export function emptyDiskBytes(volume: Volume): number {
  checkVolumeName(volume);
  const capacity = volume.emptyDisk?.capacity;
  if (capacity === undefined) throw new StorageError(volume.name, "invalid", "it has no emptyDisk source");
  const value = parseQuantity(capacity);
  if (value === null || !Number.isFinite(value)) throw new StorageError(volume.name, "invalid", `emptyDisk.capacity "${capacity}" is not a quantity`);
  const bytes = Math.ceil(value / SECTOR) * SECTOR;
  if (bytes <= 0) throw new StorageError(volume.name, "invalid", `emptyDisk.capacity "${capacity}" is not a positive size`);
  if (!Number.isSafeInteger(bytes)) throw new StorageError(volume.name, "invalid", `emptyDisk.capacity "${capacity}" is too large`);
  return bytes;
}

/** True when an earlier prepare's disk is there; a different file in its place is a conflict. */
async function found(volume: string, path: string, bytes: number): Promise<boolean> {
  const entry = await lstatOrNull(path);
  if (entry === null) return false;
  if (!entry.isFile()) throw new StorageError(volume, "conflict", `"${path}" is in the way: it is not a regular file`);
  const header = await readDiskHeader(path).catch((cause: Error) => {
    throw new StorageError(volume, "conflict", `"${path}" is in the way: ${cause.message}`, { cause });
  });
  if (header.format !== "qcow2" || header.backingFile !== undefined || header.virtualSize !== bytes) {
    throw new StorageError(volume, "conflict", `"${path}" is in the way: it is not an empty disk of ${bytes} bytes`);
  }
  return true;
}

export function emptyDiskProvider(options: EmptyDiskOptions = {}): VolumeProvider {
  const qemuImg = options.qemuImg ?? defaultQemuImg;
  return {
    kind: "emptyDisk",
    async check(volume: Volume, ctx: VolumeContext): Promise<void> {
      emptyDiskBytes(volume);
      await requireStateDir(volume.name, ctx.stateDir);
    },
    async prepare(volume: Volume, ctx: VolumeContext): Promise<PreparedDisk> {
      const bytes = emptyDiskBytes(volume);
      await requireStateDir(volume.name, ctx.stateDir);
      const path = emptyDiskPath(ctx.stateDir, volume.name);
      if (!(await found(volume.name, path, bytes))) {
        const temp = tempPathFor(path);
        try {
          await createEmptyQcow2(qemuImg, temp, bytes);
          await publishNoClobber(temp, path);
        } catch (cause) {
          await rm(temp, { force: true });
          throw new StorageError(volume.name, "tool", `cannot create the empty disk "${path}": ${(cause as Error).message}`, { cause });
        }
        await found(volume.name, path, bytes);
        ctx.log.info("created an empty disk", { volume: volume.name, path, bytes });
      }
      return { name: volume.name, kind: "emptyDisk", path, format: "qcow2", readOnly: false, block: false };
    },
    async cleanup(volume: Volume, ctx: VolumeContext): Promise<string[]> {
      checkVolumeName(volume);
      const path = emptyDiskPath(ctx.stateDir, volume.name);
      const gone = await removeTempLeftovers(ctx.stateDir, path);
      if (await removeIfPresent(ctx.stateDir, path)) gone.push(path);
      return gone;
    },
  };
}
