/**
 * System Use Sharing Protocol (SUSP 1.12) and Rock Ridge (RRIP 1.12) entries
 * carried in the System Use field of primary-tree directory records: they give
 * POSIX readers (Linux, xorriso, isoinfo -R) the real names, modes and times.
 *
 * Entries written: SP (root "." only), RR (RRIP 1.09 compatibility flags),
 * PX (mode, links, uid, gid, serial number), TF (modify, access, attribute
 * change), NM (real name), CE (continuation area pointer), ER (extension
 * reference "IEEE_P1282", root "." only, usually in the continuation area).
 */
import { asciiBytes, writeU32Both } from "./bytes.ts";
import { encodeRecordingDate } from "./datetime.ts";

/** POSIX attributes carried by PX. */
export interface PosixAttributes {
  /** st_mode including the file type bits (0o100000 file, 0o040000 directory). */
  readonly mode: number;
  readonly links: number;
  readonly uid: number;
  readonly gid: number;
  /** File serial number (inode number), unique in the image. */
  readonly serial: number;
}

/** RR flags: which RRIP entries a record carries (RRIP 1.09 compatibility). */
export const RR_PX = 0x01;
export const RR_NM = 0x08;
export const RR_TF = 0x80;

export const CE_ENTRY_LENGTH = 28;

/** Extension identifier of RRIP 1.12 and the texts the standard assigns it. */
export const RRIP_EXTENSION_ID = "IEEE_P1282";
const RRIP_DESCRIPTOR = "THE IEEE P1282 PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS.";
const RRIP_SOURCE =
  "PLEASE CONTACT THE IEEE STANDARDS DEPARTMENT, PISCATAWAY, NJ, USA FOR THE P1282 SPECIFICATION.";

/** Writes the 4-byte SUSP entry header and returns the entry buffer. */
function entry(signature: string, length: number): Uint8Array {
  if (length > 255) throw new Error(`Cannot build ISO: SUSP entry "${signature}" would be ${length} bytes, at most 255 fit`);
  const out = new Uint8Array(length);
  out[0] = signature.charCodeAt(0);
  out[1] = signature.charCodeAt(1);
  out[2] = length;
  out[3] = 1;
  return out;
}

/** SUSP SP: marks the use of SUSP; first entry of the root's "." record. */
export function spEntry(): Uint8Array {
  const out = entry("SP", 7);
  out[4] = 0xbe;
  out[5] = 0xef;
  out[6] = 0; // bytes skipped at the start of every System Use field
  return out;
}

/** RRIP RR: flags of the Rock Ridge entries present in this record. */
export function rrEntry(flags: number): Uint8Array {
  const out = entry("RR", 5);
  out[4] = flags;
  return out;
}

/** RRIP PX, 1.12 form with the serial number (44 bytes). */
export function pxEntry(attributes: PosixAttributes): Uint8Array {
  const out = entry("PX", 44);
  writeU32Both(out, 4, attributes.mode);
  writeU32Both(out, 12, attributes.links);
  writeU32Both(out, 20, attributes.uid);
  writeU32Both(out, 28, attributes.gid);
  writeU32Both(out, 36, attributes.serial);
  return out;
}

/** RRIP TF, short (7-byte) form: modification, access, attribute change. */
export function tfEntry(date: Date): Uint8Array {
  const stamp = encodeRecordingDate(date);
  const out = entry("TF", 5 + 3 * stamp.length);
  out[4] = 0x02 | 0x04 | 0x08;
  for (let i = 0; i < 3; i++) out.set(stamp, 5 + i * stamp.length);
  return out;
}

/** RRIP NM: the real file name (UTF-8), in one entry. */
export function nmEntry(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  const out = entry("NM", 5 + bytes.length);
  out[4] = 0;
  out.set(bytes, 5);
  return out;
}

/** SUSP CE: where the rest of this record's System Use entries are. */
export function ceEntry(extent: number, offset: number, length: number): Uint8Array {
  const out = entry("CE", CE_ENTRY_LENGTH);
  writeU32Both(out, 4, extent);
  writeU32Both(out, 12, offset);
  writeU32Both(out, 20, length);
  return out;
}

/** SUSP ER: declares the Rock Ridge extension (RRIP 1.12, version 1). */
export function erEntry(): Uint8Array {
  const id = asciiBytes(RRIP_EXTENSION_ID);
  const descriptor = asciiBytes(RRIP_DESCRIPTOR);
  const source = asciiBytes(RRIP_SOURCE);
  const out = entry("ER", 8 + id.length + descriptor.length + source.length);
  out[4] = id.length;
  out[5] = descriptor.length;
  out[6] = source.length;
  out[7] = 1;
  out.set(id, 8);
  out.set(descriptor, 8 + id.length);
  out.set(source, 8 + id.length + descriptor.length);
  return out;
}

/** How a record's System Use entries are split between the record and a continuation area. */
export interface SystemUsePlacement {
  /** Entries written in the directory record, in order (CE not included). */
  readonly inline: readonly Uint8Array[];
  /** Entries moved to a continuation area, in order; empty when all fit. */
  readonly continuation: readonly Uint8Array[];
  /** Bytes of System Use in the record, including the CE entry if any. */
  readonly inlineLength: number;
  /** Bytes needed in the continuation area. */
  readonly continuationLength: number;
}

const MAX_RECORD_LENGTH = 254; // 255, rounded down to the even length records must have

function sum(entries: readonly Uint8Array[]): number {
  let total = 0;
  for (const e of entries) total += e.length;
  return total;
}

/**
 * Keeps entries in the directory record while they fit (255 bytes per
 * record, even length); the first entry that does not fit and all after it
 * move to a continuation area, announced by a CE entry at the record's end.
 * `fixedLength` is the record length before the System Use field.
 */
export function placeSystemUse(fixedLength: number, entries: readonly Uint8Array[]): SystemUsePlacement {
  const all = sum(entries);
  if (fixedLength + all <= MAX_RECORD_LENGTH) {
    return { inline: entries, continuation: [], inlineLength: all, continuationLength: 0 };
  }
  let used = fixedLength + CE_ENTRY_LENGTH;
  let split = 0;
  while (split < entries.length) {
    const next = entries[split];
    if (next === undefined || used + next.length > MAX_RECORD_LENGTH) break;
    used += next.length;
    split++;
  }
  const inline = entries.slice(0, split);
  const continuation = entries.slice(split);
  return {
    inline,
    continuation,
    inlineLength: sum(inline) + CE_ENTRY_LENGTH,
    continuationLength: sum(continuation),
  };
}
