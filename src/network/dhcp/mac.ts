/** Ethernet MAC address helpers ("02:00:00:00:00:01" <-> 6 bytes). Pure. */

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** Parses "aa:bb:cc:dd:ee:ff" (any case) into 6 bytes, or null. */
export function parseMac(text: string): Uint8Array | null {
  if (!MAC.test(text)) return null;
  return Uint8Array.from(text.split(":").map((h) => parseInt(h, 16)));
}

/** Formats bytes as lower-case colon-separated hex. */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Canonical lower-case form, or null when `text` is not a MAC address. */
export function normalizeMac(text: string): string | null {
  const bytes = parseMac(text);
  return bytes === null ? null : formatMac(bytes);
}
