/**
 * Sector map of the image. Everything is placed in a fixed order, so the
 * output is a pure function of the input:
 *
 *   0..15   system area (zeros)
 *   16      Primary Volume Descriptor
 *   17      Joliet Supplementary Volume Descriptor
 *   18      Volume Descriptor Set Terminator
 *   19..    path tables: primary L, primary M, Joliet L, Joliet M
 *   then    primary root directory, Joliet root directory,
 *           SUSP continuation areas (if any), file data (each file
 *           starting on its own sector, in the caller's order).
 *
 * Empty files get extent 0 and length 0: there is nothing to read.
 */
import { SECTOR_SIZE, sectorsFor } from "./bytes.ts";

export const SYSTEM_AREA_SECTORS = 16;

export interface Extent {
  /** First logical block. */
  readonly sector: number;
  /** Number of logical blocks. */
  readonly sectors: number;
}

export interface LayoutInput {
  readonly pathTableSize: number;
  /** Byte sizes of the directory extents (whole sectors). */
  readonly primaryDirectoryBytes: number;
  readonly jolietDirectoryBytes: number;
  /** Bytes of continuation area (whole sectors, see packContinuationAreas). */
  readonly continuationBytes: number;
  readonly fileSizes: readonly number[];
}

export interface Layout {
  readonly primaryVolumeDescriptor: number;
  readonly jolietVolumeDescriptor: number;
  readonly terminator: number;
  readonly primaryLPathTable: Extent;
  readonly primaryMPathTable: Extent;
  readonly jolietLPathTable: Extent;
  readonly jolietMPathTable: Extent;
  readonly primaryDirectory: Extent;
  readonly jolietDirectory: Extent;
  readonly continuation: Extent;
  /** One extent per file, in input order. */
  readonly files: readonly Extent[];
  /** Volume space size in logical blocks. */
  readonly totalSectors: number;
}

/** Assigns sectors to every structure of the image. */
export function planLayout(input: LayoutInput): Layout {
  let next = SYSTEM_AREA_SECTORS;
  const take = (sectors: number): Extent => {
    const extent = { sector: next, sectors };
    next += sectors;
    return extent;
  };
  const primaryVolumeDescriptor = take(1).sector;
  const jolietVolumeDescriptor = take(1).sector;
  const terminator = take(1).sector;
  const pathTableSectors = sectorsFor(input.pathTableSize);
  const primaryLPathTable = take(pathTableSectors);
  const primaryMPathTable = take(pathTableSectors);
  const jolietLPathTable = take(pathTableSectors);
  const jolietMPathTable = take(pathTableSectors);
  const primaryDirectory = take(sectorsFor(input.primaryDirectoryBytes));
  const jolietDirectory = take(sectorsFor(input.jolietDirectoryBytes));
  const continuation = take(sectorsFor(input.continuationBytes));
  const files = input.fileSizes.map((size) => (size === 0 ? { sector: 0, sectors: 0 } : take(sectorsFor(size))));
  if (next > 0xffffffff) {
    throw new Error(`Cannot build ISO: image would need ${next} sectors, ISO 9660 addresses at most 4294967295`);
  }
  return {
    primaryVolumeDescriptor,
    jolietVolumeDescriptor,
    terminator,
    primaryLPathTable,
    primaryMPathTable,
    jolietLPathTable,
    jolietMPathTable,
    primaryDirectory,
    jolietDirectory,
    continuation,
    files,
    totalSectors: next,
  };
}

/** Position of one continuation area relative to the start of the continuation extent. */
export interface ContinuationSlot {
  readonly sector: number;
  readonly offset: number;
}

/**
 * Places continuation areas of the given lengths back to back; an area that
 * would cross a sector boundary starts on the next sector instead.
 */
export function packContinuationAreas(lengths: readonly number[]): { slots: ContinuationSlot[]; byteLength: number } {
  const slots: ContinuationSlot[] = [];
  let at = 0;
  for (const length of lengths) {
    if (length > SECTOR_SIZE) {
      throw new Error(`Cannot build ISO: continuation area of ${length} bytes exceeds one sector`);
    }
    const room = SECTOR_SIZE - (at % SECTOR_SIZE);
    if (length > room) at += room;
    slots.push({ sector: Math.floor(at / SECTOR_SIZE), offset: at % SECTOR_SIZE });
    at += length;
  }
  return { slots, byteLength: sectorsFor(at) * SECTOR_SIZE };
}
