/**
 * ECMA-119 9.1 directory records and their packing into directory extents
 * (6.8.1.1: a record never spans a logical sector boundary).
 */
import { SECTOR_SIZE, writeU16Both, writeU32Both } from "./bytes.ts";

/** File flags bit 1 (9.1.6): the record describes a directory. */
export const FLAG_DIRECTORY = 0x02;

/** Identifier bytes of the "." and ".." records (6.8.2.2). */
export const SELF_IDENTIFIER: Uint8Array = Uint8Array.of(0x00);
export const PARENT_IDENTIFIER: Uint8Array = Uint8Array.of(0x01);

export interface DirectoryRecordFields {
  /** First logical block of the extent. */
  readonly extent: number;
  /** Data length in bytes. */
  readonly dataLength: number;
  /** 7-byte recording date (see datetime.ts). */
  readonly recordedAt: Uint8Array;
  readonly isDirectory: boolean;
  /** File identifier bytes (d-characters, UCS-2, or 0x00/0x01). */
  readonly identifier: Uint8Array;
  /** System Use entries, concatenated in this order. */
  readonly systemUse: readonly Uint8Array[];
}

/** Length of the record up to (not including) the System Use field: always even. */
export function fixedRecordLength(identifierLength: number): number {
  return 33 + identifierLength + (identifierLength % 2 === 0 ? 1 : 0);
}

/** Total record length, padded to even (9.1.13). */
export function directoryRecordLength(identifierLength: number, systemUseLength: number): number {
  const length = fixedRecordLength(identifierLength) + systemUseLength;
  return length + (length % 2);
}

/** Writes one record at `offset` and returns its length. */
export function writeDirectoryRecord(buf: Uint8Array, offset: number, fields: DirectoryRecordFields): number {
  let systemUseLength = 0;
  for (const e of fields.systemUse) systemUseLength += e.length;
  const length = directoryRecordLength(fields.identifier.length, systemUseLength);
  if (length > 255) {
    throw new Error(`Cannot build ISO: directory record would be ${length} bytes, at most 255 fit`);
  }
  buf[offset] = length;
  buf[offset + 1] = 0; // extended attribute record length
  writeU32Both(buf, offset + 2, fields.extent);
  writeU32Both(buf, offset + 10, fields.dataLength);
  buf.set(fields.recordedAt, offset + 18);
  buf[offset + 25] = fields.isDirectory ? FLAG_DIRECTORY : 0;
  buf[offset + 26] = 0; // file unit size (not interleaved)
  buf[offset + 27] = 0; // interleave gap size
  writeU16Both(buf, offset + 28, 1); // volume sequence number
  buf[offset + 32] = fields.identifier.length;
  buf.set(fields.identifier, offset + 33);
  let at = offset + fixedRecordLength(fields.identifier.length);
  for (const e of fields.systemUse) {
    buf.set(e, at);
    at += e.length;
  }
  return length;
}

/** Where each record goes inside a directory extent, and the extent's size. */
export interface PackedDirectory {
  /** Byte offset of each record from the start of the extent. */
  readonly offsets: readonly number[];
  /** Extent size in bytes: a whole number of sectors. */
  readonly byteLength: number;
}

/** Places records of the given lengths one after another, never across a sector boundary. */
export function packDirectory(recordLengths: readonly number[]): PackedDirectory {
  const offsets: number[] = [];
  let at = 0;
  for (const length of recordLengths) {
    const room = SECTOR_SIZE - (at % SECTOR_SIZE);
    if (length > room) at += room;
    offsets.push(at);
    at += length;
  }
  const byteLength = Math.max(1, Math.ceil(at / SECTOR_SIZE)) * SECTOR_SIZE;
  return { offsets, byteLength };
}
