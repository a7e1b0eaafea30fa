/**
 * The webhooks' TLS: a CA (made once and shared by the replicas through a
 * Secret, webhook-ca.ts) and a serving certificate signed by it, made in
 * memory at start (ECDSA P-256 via WebCrypto; X.509 v3 DER written here),
 * the CA given to the API server as the configurations' caBundle. Nothing is written to disk and
 * no tool is run: the executable needs neither openssl nor an X.509 library
 * (@peculiar/x509, the library candidate, pulls 20 packages and needs a global
 * reflect-metadata polyfill under Bun).
 */

// --- DER, only the types a certificate uses ---
const concat = (parts: Uint8Array[]): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

function tlv(tag: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return concat([new Uint8Array([tag, ...len]), body]);
}

const seq = (...parts: Uint8Array[]): Uint8Array<ArrayBuffer> => tlv(0x30, concat(parts));
const set = (...parts: Uint8Array[]): Uint8Array => tlv(0x31, concat(parts));
const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 + n, inner);
const octets = (b: Uint8Array): Uint8Array => tlv(0x04, b);
const bits = (b: Uint8Array, unused = 0): Uint8Array => tlv(0x03, concat([new Uint8Array([unused]), b]));
const bool = (v: boolean): Uint8Array => tlv(0x01, new Uint8Array([v ? 0xff : 0]));
const utf8 = (s: string): Uint8Array => tlv(0x0c, new TextEncoder().encode(s));

/** A non-negative INTEGER from big-endian bytes (leading zeros dropped, a 0 added before a high bit). */
function uint(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, v[0]! & 0x80 ? concat([new Uint8Array([0]), v]) : v);
}

function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number) as [number, number, ...number[]];
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, new Uint8Array(out));
}

function time(d: Date): Uint8Array {
  const iso = d.toISOString().replace(/[-:T]/g, "").replace(/\.\d{3}Z$/, "Z");
  // UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5).
  return d.getUTCFullYear() < 2050 ? tlv(0x17, new TextEncoder().encode(iso.slice(2))) : tlv(0x18, new TextEncoder().encode(iso));
}

const name = (cn: string): Uint8Array => seq(set(seq(oid("2.5.4.3"), utf8(cn))));
const ecdsaWithSha256 = seq(oid("1.2.840.10045.4.3.2"));
const extension = (id: string, critical: boolean, value: Uint8Array): Uint8Array =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

/** WebCrypto's ECDSA signature (r || s) as X.509's DER SEQUENCE { r, s }. */
function derSignature(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return seq(uint(raw.subarray(0, half)), uint(raw.subarray(half)));
}

function ipBytes(ip: string): Uint8Array {
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (v4 !== null) return new Uint8Array(v4.slice(1).map(Number));
  throw new Error(`Cannot put "${ip}" in a certificate: only IPv4 addresses are supported`);
}

const algorithm = { name: "ECDSA", namedCurve: "P-256" } as const;

interface CertInput {
  subject: string;
  issuer: string;
  publicKey: CryptoKey;
  signingKey: CryptoKey;
  notBefore: Date;
  notAfter: Date;
  extensions: Uint8Array[];
}

async function certificate(c: CertInput): Promise<Uint8Array> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", c.publicKey));
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0]! &= 0x7f;
  const tbs = seq(
    explicit(0, tlv(0x02, new Uint8Array([2]))),
    uint(serial),
    ecdsaWithSha256,
    name(c.issuer),
    seq(time(c.notBefore), time(c.notAfter)),
    name(c.subject),
    spki,
    explicit(3, seq(...c.extensions)),
  );
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, c.signingKey, tbs));
  return seq(tbs, ecdsaWithSha256, bits(derSignature(sig)));
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

async function keyId(key: CryptoKey): Promise<Uint8Array> {
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", key));
  return new Uint8Array(await crypto.subtle.digest("SHA-1", spki)).subarray(0, 20);
}

/** How often the replicas renew their serving and client certificates (each is valid for 365 days; the CA for 3650). */
export const servingRenewMs = 7 * 86_400_000;

export interface WebhookCa {
  /** PEM of the CA certificate: the caBundle. */
  certPem: string;
  /** PEM (PKCS#8) of the CA's key. */
  keyPem: string;
}

export interface WebhookCerts {
  /** PEM of the CA certificate: the caBundle. */
  caPem: string;
  /** PEM of the serving certificate (leaf only). */
  certPem: string;
  /** PEM (PKCS#8) of the serving key. */
  keyPem: string;
}

export interface WebhookCertOptions {
  /** DNS names the serving certificate is valid for. */
  dnsNames: string[];
  /** IPv4 addresses it is valid for. */
  ips: string[];
  /** Validity in days. Default 365. */
  days?: number;
  now?: Date;
}

const caName = "bunvirt-webhook-ca";

function validity(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now.getTime() - 5 * 60_000), notAfter: new Date(now.getTime() + days * 86_400_000) };
}

function pemBody(label: string, text: string): Uint8Array<ArrayBuffer> {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text);
  if (m === null) throw new Error(`Cannot read the webhook CA: no PEM ${label} block`);
  return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64"));
}

/** A fresh CA for the webhooks (valid `days`, default ten years: replicas share it, so it outlives them). */
export async function makeWebhookCa(opts: { days?: number; now?: Date } = {}): Promise<WebhookCa> {
  const { notBefore, notAfter } = validity(opts.now ?? new Date(), opts.days ?? 3650);
  const caKeys = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const caId = await keyId(caKeys.publicKey);
  const ca = await certificate({
    subject: caName, issuer: caName, publicKey: caKeys.publicKey, signingKey: caKeys.privateKey, notBefore, notAfter,
    extensions: [
      extension("2.5.29.19", true, seq(bool(true), tlv(0x02, new Uint8Array([0])))),
      // keyCertSign and cRLSign.
      extension("2.5.29.15", true, bits(new Uint8Array([0x06]), 1)),
      extension("2.5.29.14", false, octets(caId)),
    ],
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", caKeys.privateKey));
  return { certPem: pem("CERTIFICATE", ca), keyPem: pem("PRIVATE KEY", pkcs8) };
}

/** The CA's signing key and its public key, from its PEM key (P-256, PKCS#8). */
async function caKeysOf(ca: WebhookCa): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey("pkcs8", pemBody("PRIVATE KEY", ca.keyPem), algorithm, true, ["sign"]);
  } catch (e) {
    throw new Error(`Cannot read the webhook CA's key: ${(e as Error).message}`, { cause: e });
  }
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  const publicKey = await crypto.subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, ext: true }, algorithm, true, ["verify"]);
  return { privateKey, publicKey };
}

/** A serving certificate for the given names, signed by `ca`. */
export async function makeServingCert(ca: WebhookCa, opts: WebhookCertOptions): Promise<WebhookCerts> {
  const { notBefore, notAfter } = validity(opts.now ?? new Date(), opts.days ?? 365);
  const caKeys = await caKeysOf(ca);
  const keys = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const caId = await keyId(caKeys.publicKey);
  const sans = [
    ...opts.dnsNames.map((d) => tlv(0x82, new TextEncoder().encode(d))),
    ...opts.ips.map((ip) => tlv(0x87, ipBytes(ip))),
  ];
  const leaf = await certificate({
    subject: opts.dnsNames[0] ?? opts.ips[0] ?? "bunvirt-webhook", issuer: caName, publicKey: keys.publicKey, signingKey: caKeys.privateKey, notBefore, notAfter,
    extensions: [
      extension("2.5.29.19", true, seq()),
      // digitalSignature.
      extension("2.5.29.15", true, bits(new Uint8Array([0x80]), 7)),
      extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))),
      extension("2.5.29.17", false, seq(...sans)),
      extension("2.5.29.35", false, seq(tlv(0x80, caId))),
    ],
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { caPem: ca.certPem, certPem: pem("CERTIFICATE", leaf), keyPem: pem("PRIVATE KEY", pkcs8) };
}

/**
 * A client certificate (extendedKeyUsage clientAuth) for `commonName`, signed
 * by `ca`: the controller presents it to the handlers' console servers.
 */
export async function makeClientCert(ca: WebhookCa, opts: { commonName: string; days?: number; now?: Date }): Promise<WebhookCerts> {
  const { notBefore, notAfter } = validity(opts.now ?? new Date(), opts.days ?? 365);
  const caKeys = await caKeysOf(ca);
  const keys = await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const caId = await keyId(caKeys.publicKey);
  const leaf = await certificate({
    subject: opts.commonName, issuer: caName, publicKey: keys.publicKey, signingKey: caKeys.privateKey, notBefore, notAfter,
    extensions: [
      extension("2.5.29.19", true, seq()),
      // digitalSignature.
      extension("2.5.29.15", true, bits(new Uint8Array([0x80]), 7)),
      extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.2"))),
      extension("2.5.29.35", false, seq(tlv(0x80, caId))),
    ],
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { caPem: ca.certPem, certPem: pem("CERTIFICATE", leaf), keyPem: pem("PRIVATE KEY", pkcs8) };
}

/** A fresh CA and a serving certificate signed by it, for the given names. */
export async function makeWebhookCerts(opts: WebhookCertOptions): Promise<WebhookCerts> {
  return makeServingCert(await makeWebhookCa({ days: opts.days ?? 365, ...(opts.now !== undefined ? { now: opts.now } : {}) }), opts);
}
