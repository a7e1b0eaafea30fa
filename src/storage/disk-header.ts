/**
 * Disk format by content, never by name: qcow2 (magic "QFI\xfb") or raw.
 * Reads what matters for safety from a qcow2 header: a backing file or an
 * external data file would make QEMU open a second path the volume did not
 * name. Pure except `readDiskHeader`.
 */
import { constants } from "node:fs";
import { open } from "node:fs/promises";

export const QCOW2_MAGIC = 0x514649fb;
/** Bytes read from the start of a disk: the qcow2 header with room for its extensions. */
export const HEADER_BYTES = 4096;
const EXTERNAL_DATA_FILE_BIT = 1n << 2n;

export interface DiskHeader {
  readonly format: "raw" | "qcow2";
  /** qcow2 only: the virtual size from the header. */
  readonly virtualSize?: number;
  /** qcow2 only: where the backing file name is (offset, length), when there is one. */
  readonly backing?: { readonly offset: number; readonly length: number };
  /** qcow2 only: the image keeps its data in another file. */
  readonly externalDataFile?: boolean;
}

export function isQcow2(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0) === QCOW2_MAGIC;
}

/** Reads the header bytes; throws a plain Error with the reason when a qcow2 header is damaged. */
export function inspectDiskHeader(bytes: Uint8Array): DiskHeader {
  if (!isQcow2(bytes)) return { format: "raw" };
  if (bytes.length < 72) throw new Error(`the qcow2 header is cut short (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4);
  if (version !== 2 && version !== 3) throw new Error(`the qcow2 version is ${version}, not 2 or 3`);
  const backingOffset = view.getBigUint64(8);
  const backingLength = view.getUint32(16);
  const size = view.getBigUint64(24);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`the qcow2 virtual size ${size} is too large`);
  const incompatible = version === 3 && bytes.length >= 80 ? view.getBigUint64(72) : 0n;
  const out: { format: "qcow2"; virtualSize: number; backing?: { offset: number; length: number }; externalDataFile: boolean } = {
    format: "qcow2",
    virtualSize: Number(size),
    externalDataFile: (incompatible & EXTERNAL_DATA_FILE_BIT) !== 0n,
  };
  if (backingOffset !== 0n) {
    if (backingLength === 0 || backingLength > 1023 || backingOffset > BigInt(2 ** 20)) {
      throw new Error(`the qcow2 backing file name (offset ${backingOffset}, ${backingLength} bytes) is out of range`);
    }
    out.backing = { offset: Number(backingOffset), length: backingLength };
  }
  return out;
}

export interface DiskOnFile extends DiskHeader {
  /** The backing file name, when the qcow2 has one. */
  readonly backingFile?: string;
  readonly bytes: number;
}

/**
 * Opens `path` without following a final symlink (O_NOFOLLOW), checks it is
 * a regular file or a block device, and reads its header. O_NONBLOCK keeps
 * a FIFO planted under the disk's name from hanging the open.
 */
export async function readDiskHeader(path: string, options: { allowBlock?: boolean } = {}): Promise<DiskOnFile> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile() && !(options.allowBlock === true && info.isBlockDevice())) {
      throw new Error(`"${path}" is not a regular file`);
    }
    const head = new Uint8Array(HEADER_BYTES);
    const { bytesRead } = await handle.read(head, 0, HEADER_BYTES, 0);
    const header = inspectDiskHeader(head.subarray(0, bytesRead));
    if (header.backing === undefined) return { ...header, bytes: info.size };
    const name = new Uint8Array(header.backing.length);
    const got = await handle.read(name, 0, name.length, header.backing.offset);
    if (got.bytesRead !== name.length) throw new Error(`the qcow2 backing file name of "${path}" is cut short`);
    return { ...header, backingFile: new TextDecoder().decode(name), bytes: info.size };
  } finally {
    await handle.close();
  }
}
