/**
 * DHCPv4 message codec (RFC 2131 section 2, RFC 2132 section 2, RFC 3396):
 * the fixed BOOTP header, the magic cookie, then options. `decode` never
 * throws and never loops: every loop advances through a bounded buffer.
 */
import { type Decoded, DhcpDecodeError, DhcpEncodeError, decoded, failed } from "./errors.ts";
import { parseIPv4, readIPv4 } from "../ipv4.ts";
import { latin1Decode, latin1Encode } from "./latin1.ts";
import { formatMac } from "../../api/mac.ts";
import { type DhcpOptions, OptionCode, decodeOptions, encodeOptions } from "./options.ts";

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const HTYPE_ETHERNET = 1;
/** Bit 15 of `flags`: the client asks for broadcast replies. */
export const FLAG_BROADCAST = 0x8000;

export const MAGIC_COOKIE = Uint8Array.of(99, 130, 83, 99);

const OFF = { sname: 44, file: 108, cookie: 236, options: 240 } as const;
const SNAME_LENGTH = 64;
const FILE_LENGTH = 128;
/** RFC 1542 section 2.1: pad BOOTP messages to at least 300 bytes. */
export const MIN_MESSAGE_LENGTH = 300;

export interface DhcpPacket {
  /** BOOTREQUEST (1) or BOOTREPLY (2). */
  op: number;
  htype: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** Client hardware address, `hlen` bytes (the header's hlen is its length). */
  chaddr: Uint8Array;
  /** Server host name, up to the first NUL; "" when it carried options. */
  sname: string;
  /** Boot file name, up to the first NUL; "" when it carried options. */
  file: string;
  options: DhcpOptions;
}

export type DecodeResult = { ok: true; packet: DhcpPacket } | { ok: false; error: DhcpDecodeError };

/** The client MAC of an Ethernet packet ("aa:bb:..."), else null. */
export function clientMac(packet: DhcpPacket): string | null {
  return packet.htype === HTYPE_ETHERNET && packet.chaddr.length === 6 ? formatMac(packet.chaddr) : null;
}

function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

function u32(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

function cString(b: Uint8Array, start: number, length: number): string {
  const field = b.subarray(start, start + length);
  const nul = field.indexOf(0);
  return latin1Decode(nul < 0 ? field : field.subarray(0, nul));
}

/**
 * Collects options from bytes [start, end) into `into`, appending data of a
 * code seen before (RFC 3396). Stops at the end option; a missing end option
 * is tolerated.
 */
function scanOptions(b: Uint8Array, start: number, end: number, into: Map<number, Uint8Array[]>): Decoded<null> {
  let pos = start;
  while (pos < end) {
    const code = b[pos] ?? OptionCode.END;
    if (code === OptionCode.PAD) {
      pos += 1;
      continue;
    }
    if (code === OptionCode.END) break;
    if (pos + 1 >= end) return failed("truncated-option", `option ${code} at offset ${pos} has no length byte`, pos);
    const length = b[pos + 1] ?? 0;
    if (pos + 2 + length > end) {
      return failed("truncated-option", `option ${code} at offset ${pos} (length ${length}) runs past its area`, pos);
    }
    const chunks = into.get(code);
    const data = b.subarray(pos + 2, pos + 2 + length);
    if (chunks === undefined) into.set(code, [data]);
    else chunks.push(data);
    pos += 2 + length;
  }
  return decoded(null);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function decode(bytes: Uint8Array): DecodeResult {
  try {
    return decodeUnsafe(bytes);
  } catch (cause) {
    // Not expected: every access above is bounds-checked. Keep the promise
    // that decode never throws anyway.
    const error = new DhcpDecodeError("internal", `internal error: ${String(cause)}`);
    return { ok: false, error };
  }
}

function decodeUnsafe(b: Uint8Array): DecodeResult {
  if (b.length < OFF.options) {
    return { ok: false, error: new DhcpDecodeError("truncated", `${b.length} bytes is shorter than the ${OFF.options} byte header`) };
  }
  const hlen = b[2] ?? 0;
  if (hlen > 16) return { ok: false, error: new DhcpDecodeError("bad-hardware-length", `hlen ${hlen} is over 16`, 2) };
  for (let i = 0; i < 4; i++) {
    if (b[OFF.cookie + i] !== MAGIC_COOKIE[i]) {
      return { ok: false, error: new DhcpDecodeError("bad-magic-cookie", "the magic cookie is not 99.130.83.99", OFF.cookie) };
    }
  }
  const raw = new Map<number, Uint8Array[]>();
  const main = scanOptions(b, OFF.options, b.length, raw);
  if (!main.ok) return { ok: false, error: main.error };

  // Option overload (52): "file" and/or "sname" carry more options, read in
  // the order options, file, sname (RFC 2131 section 4.1).
  let fileHoldsOptions = false;
  let snameHoldsOptions = false;
  const overload = raw.get(OptionCode.OVERLOAD);
  if (overload !== undefined) {
    raw.delete(OptionCode.OVERLOAD);
    const value = concat(overload);
    const mode = value[0] ?? 0;
    if (value.length !== 1 || mode < 1 || mode > 3) {
      return { ok: false, error: new DhcpDecodeError("bad-option-value", "option 52 (overload) is not one byte of 1, 2 or 3") };
    }
    fileHoldsOptions = (mode & 1) !== 0;
    snameHoldsOptions = (mode & 2) !== 0;
    const extra = new Map<number, Uint8Array[]>();
    if (fileHoldsOptions) {
      const r = scanOptions(b, OFF.file, OFF.file + FILE_LENGTH, extra);
      if (!r.ok) return { ok: false, error: r.error };
    }
    if (snameHoldsOptions) {
      const r = scanOptions(b, OFF.sname, OFF.sname + SNAME_LENGTH, extra);
      if (!r.ok) return { ok: false, error: r.error };
    }
    extra.delete(OptionCode.OVERLOAD);
    for (const [code, chunks] of extra) {
      const seen = raw.get(code);
      if (seen === undefined) raw.set(code, chunks);
      else seen.push(...chunks);
    }
  }

  const joined = new Map<number, Uint8Array>();
  for (const [code, chunks] of raw) joined.set(code, concat(chunks));
  const options = decodeOptions(joined);
  if (!options.ok) return { ok: false, error: options.error };

  return {
    ok: true,
    packet: {
      op: b[0] ?? 0,
      htype: b[1] ?? 0,
      hops: b[3] ?? 0,
      xid: u32(b, 4),
      secs: u16(b, 8),
      flags: u16(b, 10),
      ciaddr: readIPv4(b, 12),
      yiaddr: readIPv4(b, 16),
      siaddr: readIPv4(b, 20),
      giaddr: readIPv4(b, 24),
      chaddr: Uint8Array.from(b.subarray(28, 28 + hlen)),
      sname: snameHoldsOptions ? "" : cString(b, OFF.sname, SNAME_LENGTH),
      file: fileHoldsOptions ? "" : cString(b, OFF.file, FILE_LENGTH),
      options: options.value,
    },
  };
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new DhcpEncodeError(`${name} "${value}" is not an integer in 0..${max}`);
  }
}

function putIPv4(out: Uint8Array, offset: number, name: string, text: string): void {
  const v = parseIPv4(text);
  if (v === null) throw new DhcpEncodeError(`${name} "${text}" is not an IPv4 address`);
  new DataView(out.buffer).setUint32(offset, v);
}

function putCString(out: Uint8Array, offset: number, name: string, text: string, length: number): void {
  const bytes = latin1Encode(text);
  if (bytes === null || bytes.length > length || bytes.includes(0)) {
    throw new DhcpEncodeError(`${name} "${text}" is not at most ${length} one-byte characters without NUL`);
  }
  out.set(bytes, offset);
}

/** Encodes a packet (options after the cookie, never overloaded). Throws DhcpEncodeError. */
export function encode(packet: DhcpPacket): Uint8Array {
  checkUint("op", packet.op, 0xff);
  checkUint("htype", packet.htype, 0xff);
  checkUint("hops", packet.hops, 0xff);
  checkUint("xid", packet.xid, 0xffffffff);
  checkUint("secs", packet.secs, 0xffff);
  checkUint("flags", packet.flags, 0xffff);
  if (packet.chaddr.length > 16) throw new DhcpEncodeError(`chaddr of ${packet.chaddr.length} bytes is over 16`);
  const options = encodeOptions(packet.options);
  const out = new Uint8Array(Math.max(MIN_MESSAGE_LENGTH, OFF.options + options.length + 1));
  const view = new DataView(out.buffer);
  out[0] = packet.op;
  out[1] = packet.htype;
  out[2] = packet.chaddr.length;
  out[3] = packet.hops;
  view.setUint32(4, packet.xid);
  view.setUint16(8, packet.secs);
  view.setUint16(10, packet.flags);
  putIPv4(out, 12, "ciaddr", packet.ciaddr);
  putIPv4(out, 16, "yiaddr", packet.yiaddr);
  putIPv4(out, 20, "siaddr", packet.siaddr);
  putIPv4(out, 24, "giaddr", packet.giaddr);
  out.set(packet.chaddr, 28);
  putCString(out, OFF.sname, "sname", packet.sname, SNAME_LENGTH);
  putCString(out, OFF.file, "file", packet.file, FILE_LENGTH);
  out.set(MAGIC_COOKIE, OFF.cookie);
  out.set(options, OFF.options);
  out[OFF.options + options.length] = OptionCode.END;
  return out;
}
