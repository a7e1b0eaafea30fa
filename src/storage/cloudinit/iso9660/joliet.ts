/**
 * Joliet: a Supplementary Volume Descriptor whose identifiers are UCS-2
 * big-endian, so readers without Rock Ridge (Windows, some firmware) still see
 * the real, lower-case file names.
 */

/** Escape sequence "%/E" in the SVD: UCS-2 level 3. */
export const JOLIET_ESCAPE_SEQUENCE: readonly number[] = [0x25, 0x2f, 0x45];

/** Longest Joliet file identifier, in UCS-2 characters (Joliet spec limit). */
export const JOLIET_MAX_NAME_LENGTH = 64;

/** Longest Joliet volume identifier: 32 bytes of UCS-2. */
export const JOLIET_MAX_VOLUME_ID_LENGTH = 16;

/** Characters Joliet forbids in identifiers besides control characters and '/'. */
const FORBIDDEN = new Set(["*", ":", ";", "?", "\\"]);

/** Joliet spelling of a real file name: forbidden characters become '_'. */
export function jolietName(name: string): string {
  let out = "";
  for (const ch of name) out += FORBIDDEN.has(ch) ? "_" : ch;
  return out;
}

/** UTF-16 code units, big-endian: UCS-2 for the BMP, as Linux and Windows read it. */
export function encodeUcs2(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out[2 * i] = unit >>> 8;
    out[2 * i + 1] = unit & 0xff;
  }
  return out;
}

/**
 * Writes `text` as UCS-2 into a fixed field of `length` bytes padded with
 * UCS-2 spaces (00 20); an odd final byte is left zero.
 */
export function writeUcs2Field(buf: Uint8Array, offset: number, length: number, text: string): void {
  const units = Math.floor(length / 2);
  for (let i = 0; i < units; i++) {
    const unit = i < text.length ? text.charCodeAt(i) : 0x20;
    buf[offset + 2 * i] = unit >>> 8;
    buf[offset + 2 * i + 1] = unit & 0xff;
  }
  if (length % 2 === 1) buf[offset + length - 1] = 0;
}

/**
 * Order of Joliet directory records: identifiers compared as big-endian
 * UCS-2 byte strings, which is the UTF-16 code-unit order of JS strings.
 */
export function compareJoliet(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
