/**
 * ECMA-119 8.4 Primary Volume Descriptor, the Joliet Supplementary Volume
 * Descriptor (8.5 with the UCS-2 escape sequence) and the Volume Descriptor
 * Set Terminator (8.3). Each is one 2048-byte sector.
 */
import { SECTOR_SIZE, writeAsciiField, writeU16Both, writeU32BE, writeU32Both, writeU32LE } from "./bytes.ts";
import { encodeVolumeDate } from "./datetime.ts";
import { JOLIET_ESCAPE_SEQUENCE, JOLIET_MAX_VOLUME_ID_LENGTH, writeUcs2Field } from "./joliet.ts";

export const STANDARD_IDENTIFIER = "CD001";
export const TYPE_PRIMARY = 1;
export const TYPE_SUPPLEMENTARY = 2;
export const TYPE_TERMINATOR = 255;

/** Application identifier recorded in both descriptors. */
export const APPLICATION_ID = "BUNVIRT";

export interface VolumeDescriptorFields {
  /** Volume identifier; the caller has checked it is printable ASCII of at most 32 characters. */
  readonly volumeId: string;
  /** Total number of logical blocks in the image. */
  readonly volumeSpaceSize: number;
  /** Size in bytes of each of the two path tables. */
  readonly pathTableSize: number;
  readonly lPathTableExtent: number;
  readonly mPathTableExtent: number;
  /** The 34-byte root directory record. */
  readonly rootRecord: Uint8Array;
  /** Creation and modification date. */
  readonly createdAt: Date;
}

function header(type: number): Uint8Array {
  const out = new Uint8Array(SECTOR_SIZE);
  out[0] = type;
  writeAsciiField(out, 1, 5, STANDARD_IDENTIFIER);
  out[6] = 1; // version
  return out;
}

function writeCommon(out: Uint8Array, fields: VolumeDescriptorFields): void {
  writeU32Both(out, 80, fields.volumeSpaceSize);
  writeU16Both(out, 120, 1); // volume set size
  writeU16Both(out, 124, 1); // volume sequence number
  writeU16Both(out, 128, SECTOR_SIZE); // logical block size
  writeU32Both(out, 132, fields.pathTableSize);
  writeU32LE(out, 140, fields.lPathTableExtent);
  writeU32LE(out, 144, 0); // no optional type L path table
  writeU32BE(out, 148, fields.mPathTableExtent);
  writeU32BE(out, 152, 0); // no optional type M path table
  if (fields.rootRecord.length !== 34) {
    throw new Error(`Cannot build ISO: root directory record is ${fields.rootRecord.length} bytes, expected 34`);
  }
  out.set(fields.rootRecord, 156);
  out.set(encodeVolumeDate(fields.createdAt), 813); // creation
  out.set(encodeVolumeDate(fields.createdAt), 830); // modification
  out.set(encodeVolumeDate(null), 847); // expiration: none
  out.set(encodeVolumeDate(null), 864); // effective: immediately
  out[881] = 1; // file structure version
}

/** The Primary Volume Descriptor (ISO 9660 level 1 tree). */
export function encodePrimaryVolumeDescriptor(fields: VolumeDescriptorFields): Uint8Array {
  const out = header(TYPE_PRIMARY);
  writeAsciiField(out, 8, 32, ""); // system identifier
  writeAsciiField(out, 40, 32, fields.volumeId);
  writeCommon(out, fields);
  writeAsciiField(out, 190, 128, ""); // volume set
  writeAsciiField(out, 318, 128, ""); // publisher
  writeAsciiField(out, 446, 128, ""); // data preparer
  writeAsciiField(out, 574, 128, APPLICATION_ID);
  writeAsciiField(out, 702, 37, ""); // copyright file
  writeAsciiField(out, 739, 37, ""); // abstract file
  writeAsciiField(out, 776, 37, ""); // bibliographic file
  return out;
}

/** The Joliet Supplementary Volume Descriptor (UCS-2 level 3). */
export function encodeJolietVolumeDescriptor(fields: VolumeDescriptorFields): Uint8Array {
  const out = header(TYPE_SUPPLEMENTARY);
  out[7] = 0; // volume flags: only registered escape sequences
  writeUcs2Field(out, 8, 32, "");
  writeUcs2Field(out, 40, 32, fields.volumeId.slice(0, JOLIET_MAX_VOLUME_ID_LENGTH));
  out.set(JOLIET_ESCAPE_SEQUENCE, 88);
  writeCommon(out, fields);
  writeUcs2Field(out, 190, 128, "");
  writeUcs2Field(out, 318, 128, "");
  writeUcs2Field(out, 446, 128, "");
  writeUcs2Field(out, 574, 128, APPLICATION_ID);
  writeUcs2Field(out, 702, 37, "");
  writeUcs2Field(out, 739, 37, "");
  writeUcs2Field(out, 776, 37, "");
  return out;
}

/** The Volume Descriptor Set Terminator. */
export function encodeTerminator(): Uint8Array {
  return header(TYPE_TERMINATOR);
}
