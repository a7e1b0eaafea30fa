/**
 * Test helper (not exported from index.ts): builds DHCP messages byte by byte,
 * independently of packet.ts, so codec tests compare against bytes written
 * by hand rather than against the encoder's own output.
 */

/** "63 82 53 63" / "0a000201" -> bytes; spaces and newlines ignored. */
export function hex(text: string): number[] {
  const clean = text.replace(/\s+/g, "");
  if (clean.length % 2 !== 0) throw new Error(`Cannot parse hex: odd length "${clean.length}"`);
  const out: number[] = [];
  for (let i = 0; i < clean.length; i += 2) out.push(parseInt(clean.slice(i, i + 2), 16));
  return out;
}

export const ascii = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0));

export interface Header {
  op?: number;
  htype?: number;
  hlen?: number;
  hops?: number;
  xid?: string; // 8 hex digits
  secs?: string; // 4 hex digits
  flags?: string; // 4 hex digits
  ciaddr?: string; // 8 hex digits
  yiaddr?: string;
  siaddr?: string;
  giaddr?: string;
  chaddr?: string; // hex, up to 32 digits
  sname?: number[]; // up to 64 bytes
  file?: number[]; // up to 128 bytes
}

/** A 236-byte BOOTP header, the magic cookie, then `options` verbatim, zero-padded to `minLength`. */
export function message(h: Header, options: number[], minLength = 300): Uint8Array {
  const fixed = (bytes: number[], length: number): number[] => [...bytes, ...new Array<number>(length - bytes.length).fill(0)];
  const chaddr = hex(h.chaddr ?? "020000000001");
  const bytes = [
    h.op ?? 1,
    h.htype ?? 1,
    h.hlen ?? chaddr.length,
    h.hops ?? 0,
    ...hex(h.xid ?? "12345678"),
    ...hex(h.secs ?? "0000"),
    ...hex(h.flags ?? "0000"),
    ...hex(h.ciaddr ?? "00000000"),
    ...hex(h.yiaddr ?? "00000000"),
    ...hex(h.siaddr ?? "00000000"),
    ...hex(h.giaddr ?? "00000000"),
    ...fixed(chaddr, 16),
    ...fixed(h.sname ?? [], 64),
    ...fixed(h.file ?? [], 128),
    ...hex("63825363"),
    ...options,
  ];
  return Uint8Array.from(fixed(bytes, Math.max(bytes.length, minLength)));
}
