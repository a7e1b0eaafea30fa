/**
 * Byte-exact text for DHCP string options (hostname, domain name, sname,
 * file): one byte per character, so any bytes a client sends decode and
 * re-encode unchanged. DHCP strings are NVT ASCII, a subset of this.
 */

export function latin1Decode(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

/** The bytes of `text`, or null when a character does not fit in one byte. */
export function latin1Encode(text: string): Uint8Array | null {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) return null;
    out[i] = c;
  }
  return out;
}
