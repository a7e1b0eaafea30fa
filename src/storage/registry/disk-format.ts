/** Disk format detection by content: qcow2 (magic "QFI\xfb") or raw. */
import { open } from "node:fs/promises";
import { ImageError } from "./errors.ts";

export type DiskFormat = "qcow2" | "raw";

export interface DiskInfo {
  readonly format: DiskFormat;
  /** Size the guest sees: the qcow2 header's size, or the file size for raw. */
  readonly virtualSize: number;
  /** Bytes of the file. */
  readonly bytes: number;
}

export const QCOW2_MAGIC = 0x514649fb;
const HEADER_BYTES = 512;

/** Reads a qcow2/raw header (pure). Throws on a qcow2 with a backing file. */
export function inspectDiskHeader(header: Uint8Array, fileSize: number): DiskInfo {
  if (header.length >= 32) {
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (view.getUint32(0) === QCOW2_MAGIC) {
      const version = view.getUint32(4);
      if (version !== 2 && version !== 3) throw new ImageError("invalid-image", `the disk is qcow2 version ${version}, expected 2 or 3`);
      const backingOffset = view.getBigUint64(8);
      if (backingOffset !== 0n) throw new ImageError("invalid-image", "the qcow2 disk has a backing file, which a container disk cannot provide");
      const size = view.getBigUint64(24);
      if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new ImageError("invalid-image", `the qcow2 disk claims a virtual size of ${size} bytes`);
      return { format: "qcow2", virtualSize: Number(size), bytes: fileSize };
    }
  }
  return { format: "raw", virtualSize: fileSize, bytes: fileSize };
}

export async function detectDiskFormat(path: string): Promise<DiskInfo> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const header = new Uint8Array(HEADER_BYTES);
    const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, 0);
    return inspectDiskHeader(header.subarray(0, bytesRead), size);
  } finally {
    await handle.close();
  }
}
