/**
 * Date encodings of ECMA-119: the 7-byte "recording date and time" of
 * directory records (9.1.5, also used by Rock Ridge TF short form) and the
 * 17-byte digit form of volume descriptors (8.4.26.1). Always written in UTC
 * (offset 0) so the output does not depend on the host's time zone.
 */

/** Earliest and latest years the 7-byte form can hold (1900 + 0..255). */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 2155;

/** Throws unless `date` is a valid Date inside the 7-byte range. */
export function checkIsoDate(date: Date, what: string): void {
  const time = date.getTime();
  if (Number.isNaN(time)) {
    throw new Error(`Cannot build ISO: ${what} is not a valid date`);
  }
  const year = date.getUTCFullYear();
  if (year < MIN_YEAR || year > MAX_YEAR) {
    throw new Error(
      `Cannot build ISO: ${what} "${date.toISOString()}" is outside the years ${MIN_YEAR}..${MAX_YEAR} ISO 9660 can record`,
    );
  }
}

/** 9.1.5: years since 1900, month, day, hour, minute, second, GMT offset. */
export function encodeRecordingDate(date: Date): Uint8Array {
  return Uint8Array.of(
    date.getUTCFullYear() - MIN_YEAR,
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    0,
  );
}

function digits(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

/**
 * 8.4.26.1: "YYYYMMDDHHMMSScc" in ASCII digits plus a GMT offset byte.
 * `null` encodes "not specified" (all digits zero, offset zero).
 */
export function encodeVolumeDate(date: Date | null): Uint8Array {
  const out = new Uint8Array(17);
  const text =
    date === null
      ? "0000000000000000"
      : digits(date.getUTCFullYear(), 4) +
        digits(date.getUTCMonth() + 1, 2) +
        digits(date.getUTCDate(), 2) +
        digits(date.getUTCHours(), 2) +
        digits(date.getUTCMinutes(), 2) +
        digits(date.getUTCSeconds(), 2) +
        digits(Math.floor(date.getUTCMilliseconds() / 10), 2);
  for (let i = 0; i < 16; i++) out[i] = text.charCodeAt(i);
  out[16] = 0;
  return out;
}
