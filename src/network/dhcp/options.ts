/**
 * The DHCP options this project interprets (RFC 2132, 3397, 3442), their
 * wire codes and value shapes, and the conversion between the typed
 * `DhcpOptions` record and raw option data. Options with other codes are kept
 * as raw bytes in `other` so a decoded packet loses nothing.
 */
import { type ClasslessRoute, decodeClasslessRoutes, encodeClasslessRoutes } from "./classless-routes.ts";
import { decodeDomainSearch, encodeDomainSearch } from "./domain-search.ts";
import { type Decoded, DhcpEncodeError, decoded, failed } from "./errors.ts";
import { parseIPv4, readIPv4 } from "../ipv4.ts";
import { latin1Decode, latin1Encode } from "./latin1.ts";

export const MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

/** "DISCOVER" for 1 and so on; "TYPE-<n>" for codes this server does not know. */
export function messageTypeName(code: number | undefined): string {
  if (code === undefined) return "BOOTP";
  for (const [name, value] of Object.entries(MessageType)) if (value === code) return name;
  return `TYPE-${code}`;
}

export const OptionCode = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS_SERVERS: 6,
  HOSTNAME: 12,
  DOMAIN_NAME: 15,
  INTERFACE_MTU: 26,
  BROADCAST_ADDRESS: 28,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  CLIENT_ID: 61,
  DOMAIN_SEARCH: 119,
  CLASSLESS_ROUTES: 121,
  END: 255,
} as const;

/** Value shapes on the wire, and the TypeScript type each decodes to. */
interface KindValue {
  ip: string;
  ipList: string[];
  u8: number;
  u16: number;
  u32: number;
  text: string;
  bytes: Uint8Array;
  codeList: number[];
  domainSearch: string[];
  classlessRoutes: ClasslessRoute[];
}
type Kind = keyof KindValue;

/**
 * Known options, in the order `encode` writes them: message type and server
 * identifier first (some clients look for them early), then by code.
 */
const SPEC = {
  messageType: { code: OptionCode.MESSAGE_TYPE, kind: "u8" },
  serverId: { code: OptionCode.SERVER_ID, kind: "ip" },
  subnetMask: { code: OptionCode.SUBNET_MASK, kind: "ip" },
  routers: { code: OptionCode.ROUTER, kind: "ipList" },
  dnsServers: { code: OptionCode.DNS_SERVERS, kind: "ipList" },
  hostname: { code: OptionCode.HOSTNAME, kind: "text" },
  domainName: { code: OptionCode.DOMAIN_NAME, kind: "text" },
  interfaceMtu: { code: OptionCode.INTERFACE_MTU, kind: "u16" },
  broadcastAddress: { code: OptionCode.BROADCAST_ADDRESS, kind: "ip" },
  requestedIp: { code: OptionCode.REQUESTED_IP, kind: "ip" },
  leaseTime: { code: OptionCode.LEASE_TIME, kind: "u32" },
  parameterRequestList: { code: OptionCode.PARAMETER_REQUEST_LIST, kind: "codeList" },
  message: { code: OptionCode.MESSAGE, kind: "text" },
  renewalTime: { code: OptionCode.RENEWAL_TIME, kind: "u32" },
  rebindingTime: { code: OptionCode.REBINDING_TIME, kind: "u32" },
  clientId: { code: OptionCode.CLIENT_ID, kind: "bytes" },
  domainSearch: { code: OptionCode.DOMAIN_SEARCH, kind: "domainSearch" },
  classlessRoutes: { code: OptionCode.CLASSLESS_ROUTES, kind: "classlessRoutes" },
} as const satisfies Record<string, { code: number; kind: Kind }>;

type KnownField = keyof typeof SPEC;

/** An option this codec does not interpret, data concatenated per RFC 3396. */
export interface RawOption {
  code: number;
  data: Uint8Array;
}

/**
 * Typed options. Lease/T1/T2 are seconds, `interfaceMtu` bytes,
 * `parameterRequestList` option codes, `messageType` one of `MessageType`.
 */
export type DhcpOptions = { -readonly [F in KnownField]?: KindValue[(typeof SPEC)[F]["kind"]] } & {
  other?: RawOption[];
};

/** Codes with a typed field; `other` must not use them (nor 0, 52, 255). */
export const KNOWN_OPTION_CODES: ReadonlySet<number> = new Set(Object.values(SPEC).map((s) => s.code));

const fieldByCode = new Map<number, KnownField>(
  (Object.keys(SPEC) as KnownField[]).map((f) => [SPEC[f].code, f]),
);

type Codec<V> = {
  decode(data: Uint8Array, code: number): Decoded<V>;
  encode(value: V, code: number): Uint8Array;
};

const badLength = <T>(code: number, got: number, want: string): Decoded<T> =>
  failed("bad-option-length", `option ${code} has length ${got}, expected ${want}`);

function uint(bytes: 1 | 2 | 4): Codec<number> {
  const max = 2 ** (8 * bytes) - 1;
  return {
    decode(data, code) {
      if (data.length !== bytes) return badLength(code, data.length, String(bytes));
      let v = 0;
      for (const b of data) v = v * 256 + b;
      return decoded(v);
    },
    encode(value, code) {
      if (!Number.isInteger(value) || value < 0 || value > max) {
        throw new DhcpEncodeError(`option ${code}: "${value}" is not an integer in 0..${max}`);
      }
      const out = new Uint8Array(bytes);
      for (let i = bytes - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v % 256;
      return out;
    },
  };
}

function ipBytes(text: string, code: number): number[] {
  const v = parseIPv4(text);
  if (v === null) throw new DhcpEncodeError(`option ${code}: "${text}" is not an IPv4 address`);
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

const CODECS: { [K in Kind]: Codec<KindValue[K]> } = {
  u8: uint(1),
  u16: uint(2),
  u32: uint(4),
  ip: {
    decode: (data, code) => (data.length === 4 ? decoded(readIPv4(data, 0)) : badLength(code, data.length, "4")),
    encode: (value, code) => Uint8Array.from(ipBytes(value, code)),
  },
  ipList: {
    decode(data, code) {
      if (data.length % 4 !== 0) return badLength(code, data.length, "a multiple of 4");
      const list: string[] = [];
      for (let i = 0; i < data.length; i += 4) list.push(readIPv4(data, i));
      return decoded(list);
    },
    encode: (value, code) => Uint8Array.from(value.flatMap((ip) => ipBytes(ip, code))),
  },
  text: {
    decode: (data) => decoded(latin1Decode(data)),
    encode(value, code) {
      const bytes = latin1Encode(value);
      if (bytes === null) throw new DhcpEncodeError(`option ${code}: "${value}" has a character outside one byte`);
      return bytes;
    },
  },
  bytes: {
    decode: (data) => decoded(Uint8Array.from(data)),
    encode: (value) => Uint8Array.from(value),
  },
  codeList: {
    decode: (data) => decoded(Array.from(data)),
    encode(value, code) {
      for (const c of value) {
        if (!Number.isInteger(c) || c < 0 || c > 255) throw new DhcpEncodeError(`option ${code}: "${c}" is not an option code`);
      }
      return Uint8Array.from(value);
    },
  },
  domainSearch: { decode: (data) => decodeDomainSearch(data), encode: (value) => encodeDomainSearch(value) },
  classlessRoutes: { decode: (data) => decodeClasslessRoutes(data), encode: (value) => encodeClasslessRoutes(value) },
};

/** The per-kind codecs with the kind erased, for the loops over SPEC. */
const codecOf = (field: KnownField): Codec<unknown> => CODECS[SPEC[field].kind] as Codec<unknown>;

/**
 * Interprets option data gathered from a packet: `raw` maps each code to its
 * data, already concatenated across split instances, in order of first
 * appearance. Pad, end and overload must not be in it.
 */
export function decodeOptions(raw: ReadonlyMap<number, Uint8Array>): Decoded<DhcpOptions> {
  const options: DhcpOptions = {};
  const other: RawOption[] = [];
  for (const [code, data] of raw) {
    const field = fieldByCode.get(code);
    if (field === undefined) {
      other.push({ code, data });
      continue;
    }
    const r = codecOf(field).decode(data, code);
    if (!r.ok) return r;
    // The codec for SPEC[field].kind produces exactly DhcpOptions[field].
    (options as Record<KnownField, unknown>)[field] = r.value;
  }
  if (other.length > 0) options.other = other;
  return decoded(options);
}

function pushOption(out: number[], code: number, data: Uint8Array): void {
  // RFC 3396: data longer than 255 bytes goes into consecutive instances.
  if (data.length === 0) {
    out.push(code, 0);
    return;
  }
  for (let i = 0; i < data.length; i += 255) {
    const chunk = data.subarray(i, i + 255);
    out.push(code, chunk.length, ...chunk);
  }
}

/** Encodes the options as code/length/data triples, without the end option. */
export function encodeOptions(options: DhcpOptions): Uint8Array {
  const out: number[] = [];
  for (const field of Object.keys(SPEC) as KnownField[]) {
    const value = options[field];
    if (value !== undefined) pushOption(out, SPEC[field].code, codecOf(field).encode(value, SPEC[field].code));
  }
  for (const { code, data } of options.other ?? []) {
    if (!Number.isInteger(code) || code <= 0 || code >= 255 || code === OptionCode.OVERLOAD || KNOWN_OPTION_CODES.has(code)) {
      throw new DhcpEncodeError(`raw option code "${code}" is reserved or has a typed field`);
    }
    pushOption(out, code, data);
  }
  return Uint8Array.from(out);
}
