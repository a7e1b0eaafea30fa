/**
 * Property tests for the codec: decode never throws (random bytes, valid
 * packets with mutations), encode/decode round-trip, and the responder copes
 * with anything decode accepts.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { ClasslessRoute } from "./classless-routes.ts";
import type { LeaseConfig } from "./lease-config.ts";
import { formatIPv4, prefixMask } from "../ipv4.ts";
import { type DhcpOptions, KNOWN_OPTION_CODES, type RawOption } from "./options.ts";
import { type DhcpPacket, MAGIC_COOKIE, decode, encode } from "./packet.ts";
import { respond } from "./responder.ts";

const RUNS = 300;

const byteChar = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
const nonNulChar = fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c));
/**
 * fast-check keeps lengths small by default; options over 255 bytes (split
 * into several instances, RFC 3396) need `size: "max"` now and then.
 */
const sometimesLong = <T>(small: fc.Arbitrary<T>, long: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: small, weight: 4 }, { arbitrary: long, weight: 1 });
const latin1 = (maxLength: number): fc.Arbitrary<string> =>
  sometimesLong(fc.string({ unit: byteChar, maxLength }), fc.string({ unit: byteChar, maxLength, size: "max" }));
const u = (bits: 8 | 16 | 32): fc.Arbitrary<number> => fc.integer({ min: 0, max: 2 ** bits - 1 });
const bytes = (maxLength: number): fc.Arbitrary<Uint8Array> =>
  sometimesLong(fc.uint8Array({ maxLength }), fc.uint8Array({ maxLength, size: "max" }));
const list = <T>(item: fc.Arbitrary<T>, maxLength: number): fc.Arbitrary<T[]> =>
  sometimesLong(fc.array(item, { maxLength }), fc.array(item, { maxLength, size: "max" }));

// A small label pool so names share suffixes and the encoder compresses.
const label = fc.oneof(
  fc.constantFrom("svc", "cluster", "local", "default", "example", "com"),
  fc.stringMatching(/^[a-z0-9-]{1,63}$/),
);
const domain = fc
  .array(label, { minLength: 1, maxLength: 6 })
  .map((labels) => labels.join("."))
  .filter((name) => name.length <= 253);

const route: fc.Arbitrary<ClasslessRoute> = fc
  .record({ prefixLength: fc.integer({ min: 0, max: 32 }), dst: u(32), gateway: fc.ipV4() })
  .map(({ prefixLength, dst, gateway }) => ({
    // Octets past ceil(width / 8) are not on the wire: keep them zero.
    destination: formatIPv4((dst & prefixMask(Math.ceil(prefixLength / 8) * 8)) >>> 0),
    prefixLength,
    gateway,
  }));

const rawOption: fc.Arbitrary<RawOption> = fc.record({
  code: fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52 && !KNOWN_OPTION_CODES.has(c)),
  data: bytes(600),
});

const options: fc.Arbitrary<DhcpOptions> = fc.record(
  {
    messageType: u(8),
    serverId: fc.ipV4(),
    subnetMask: fc.ipV4(),
    routers: fc.array(fc.ipV4(), { maxLength: 4 }),
    dnsServers: list(fc.ipV4(), 70),
    hostname: latin1(300),
    domainName: latin1(64),
    interfaceMtu: u(16),
    broadcastAddress: fc.ipV4(),
    requestedIp: fc.ipV4(),
    leaseTime: u(32),
    parameterRequestList: list(u(8), 300),
    message: latin1(100),
    renewalTime: u(32),
    rebindingTime: u(32),
    clientId: bytes(300),
    domainSearch: list(domain, 12),
    classlessRoutes: list(route, 40),
    other: fc.uniqueArray(rawOption, { minLength: 1, maxLength: 4, selector: (o) => o.code }),
  },
  { requiredKeys: [] },
);

const packet: fc.Arbitrary<DhcpPacket> = fc.record({
  op: fc.constantFrom(1, 2),
  htype: u(8),
  hops: u(8),
  xid: u(32),
  secs: u(16),
  flags: u(16),
  ciaddr: fc.ipV4(),
  yiaddr: fc.ipV4(),
  siaddr: fc.ipV4(),
  giaddr: fc.ipV4(),
  chaddr: fc.uint8Array({ maxLength: 16 }),
  sname: fc.string({ unit: nonNulChar, maxLength: 64 }),
  file: fc.string({ unit: nonNulChar, maxLength: 128 }),
  options,
});

/** Something a client on the bridge could send: mostly ours, sometimes not. */
const LEASE: LeaseConfig = {
  clientMac: "02:00:00:00:00:01",
  address: "10.0.2.2",
  prefixLength: 24,
  router: "10.0.2.1",
  dns: ["10.96.0.10"],
  searchDomains: ["default.svc.cluster.local", "cluster.local"],
  hostname: "vm1",
  mtu: 1450,
  leaseSeconds: 3600,
  serverId: "10.0.2.1",
  classlessRoutes: [{ destination: "10.96.0.0", prefixLength: 12, gateway: "10.0.2.1" }],
};

type Mutation =
  | { kind: "set"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; data: Uint8Array }
  | { kind: "delete"; at: number; count: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: u(8) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), data: bytes(8) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = Array.from(input);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.kind === "set" && at < b.length) b[at] = m.value;
    if (m.kind === "truncate") b = b.slice(0, at);
    if (m.kind === "insert") b.splice(at, 0, ...m.data);
    if (m.kind === "delete") b.splice(at, m.count);
  }
  return Uint8Array.from(b);
}

/** Anything decode accepts must re-encode, decode to the same thing, and not upset the responder. */
function checkAccepted(input: Uint8Array): void {
  const r = decode(input);
  expect(typeof r.ok).toBe("boolean");
  if (!r.ok) {
    expect(r.error.name).toBe("DhcpDecodeError");
    return;
  }
  const again = decode(encode(r.packet));
  if (!again.ok) throw again.error;
  expect(again.packet).toEqual(r.packet);
  const ex = respond(r.packet, LEASE);
  if (ex.reply !== null) expect(decode(encode(ex.reply)).ok).toBe(true);
}

describe("codec properties", () => {
  test("decode(encode(p)) equals p, and re-encoding gives the same bytes", () => {
    let split = 0;
    fc.assert(
      fc.property(packet, (p) => {
        const o = p.options;
        if ((o.hostname?.length ?? 0) > 255 || (o.other ?? []).some((r) => r.data.length > 255)) split++;
        const wire = encode(p);
        const r = decode(wire);
        if (!r.ok) throw r.error;
        expect(r.packet).toEqual(p);
        expect(encode(r.packet)).toEqual(wire);
      }),
      { numRuns: RUNS },
    );
    // The generators must keep producing options split over several instances.
    expect(split).toBeGreaterThan(0);
  });

  test("random bytes never make decode throw", () => {
    fc.assert(fc.property(bytes(700), checkAccepted), { numRuns: RUNS });
  });

  test("random option areas behind a valid header never make decode throw", () => {
    const header = encode({
      op: 1, htype: 1, hops: 0, xid: 1, secs: 0, flags: 0,
      ciaddr: "0.0.0.0", yiaddr: "0.0.0.0", siaddr: "0.0.0.0", giaddr: "0.0.0.0",
      chaddr: Uint8Array.of(2, 0, 0, 0, 0, 1), sname: "", file: "", options: {},
    }).subarray(0, 236);
    const withOptions = fc
      .tuple(bytes(400), fc.uint8Array({ minLength: 192, maxLength: 192 }), fc.boolean())
      .map(([opts, snameFile, overloaded]) => {
        const b = Uint8Array.from([...header, ...MAGIC_COOKIE, ...(overloaded ? [52, 1, 3] : []), ...opts]);
        if (overloaded) b.set(snameFile, 44);
        return b;
      });
    fc.assert(fc.property(withOptions, checkAccepted), { numRuns: RUNS });
  });

  test("mutated valid packets never make decode throw", () => {
    fc.assert(
      fc.property(packet, fc.array(mutation, { minLength: 1, maxLength: 5 }), (p, ms) => checkAccepted(mutate(encode(p), ms))),
      { numRuns: RUNS },
    );
  });

  test("packets from the configured client always get an encodable answer", () => {
    const fromClient = packet.map((p) => ({ ...p, op: 1, htype: 1, giaddr: "0.0.0.0", chaddr: Uint8Array.of(2, 0, 0, 0, 0, 1) }));
    fc.assert(
      fc.property(fromClient, fc.integer({ min: 1, max: 8 }), (p, type) => {
        const ex = respond({ ...p, options: { ...p.options, messageType: type } }, LEASE);
        expect(ex.kind).not.toBe("ignored");
        if (ex.reply !== null) expect(decode(encode(ex.reply)).ok).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
