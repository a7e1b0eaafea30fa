/**
 * Low-level field encoders shared by the ISO 9660 writer (ECMA-119 section 7).
 * All functions write into a caller-provided buffer; none allocate.
 */

/** Logical sector and logical block size used throughout the image. */
export const SECTOR_SIZE = 2048;

/** Number of whole sectors needed to hold `byteLength` bytes. */
export function sectorsFor(byteLength: number): number {
  return Math.ceil(byteLength / SECTOR_SIZE);
}

/** 7.2.1: 16-bit little-endian. */
export function writeU16LE(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
}

/** 7.2.2: 16-bit big-endian. */
export function writeU16BE(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >>> 8) & 0xff;
  buf[offset + 1] = value & 0xff;
}

/** 7.2.3: 16-bit both-byte orders (little-endian copy first), 4 bytes. */
export function writeU16Both(buf: Uint8Array, offset: number, value: number): void {
  writeU16LE(buf, offset, value);
  writeU16BE(buf, offset + 2, value);
}

/** 7.3.1: 32-bit little-endian. */
export function writeU32LE(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
  buf[offset + 2] = (value >>> 16) & 0xff;
  buf[offset + 3] = (value >>> 24) & 0xff;
}

/** 7.3.2: 32-bit big-endian. */
export function writeU32BE(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = (value >>> 24) & 0xff;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}

/** 7.3.3: 32-bit both-byte orders (little-endian copy first), 8 bytes. */
export function writeU32Both(buf: Uint8Array, offset: number, value: number): void {
  writeU32LE(buf, offset, value);
  writeU32BE(buf, offset + 4, value);
}

/**
 * Writes ASCII `text` into a fixed-width field of `length` bytes, filling the
 * rest with `fill` (a space, 0x20, for the a- and d-character fields).
 * The caller has checked that `text` is ASCII and fits.
 */
export function writeAsciiField(
  buf: Uint8Array,
  offset: number,
  length: number,
  text: string,
  fill = 0x20,
): void {
  for (let i = 0; i < length; i++) {
    buf[offset + i] = i < text.length ? text.charCodeAt(i) & 0x7f : fill;
  }
}

/** Encodes an ASCII string as bytes (caller guarantees ASCII). */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}
