/**
 * The console relay's wire protocol between the controller (the dialer) and
 * the handler on the VMI's node (the server), after mutual TLS:
 *
 *   controller → handler: one JSON line, at most 4 KiB with its "\n":
 *                         {"namespace":"NS","name":"VMI","uid":"VMI-UID"}
 *   handler → controller: one JSON line {"ok":true} then the raw serial bytes
 *                         both ways until either side ends, or
 *                         {"ok":false,"code":404|409|500,"message":"..."} and close.
 *
 * The handler publishes where it listens on its own Node as the annotation
 * `kubevirt.io/bunvirt-console` = {"address":"IP:PORT","sha256":"<hex>"}; the
 * controller pins the handler's self-signed certificate by that digest. The
 * handler trusts the controller's client certificate by the CA in ConfigMap
 * `bunvirt-ca` (key `ca.crt`) and its CN `bunvirt-controller`.
 *
 * Self-contained on purpose (both roles import it; no other bunvirt module).
 */
import { createHash } from "node:crypto";
import type { Duplex } from "node:stream";

/** The Node annotation with the handler's console address and certificate digest. */
export const consoleAnnotation = "kubevirt.io/bunvirt-console";
/** The cap on one protocol line, "\n" included. */
export const consoleMaxLineBytes = 4096;
/** How long either side waits for the other's line. */
export const consoleLineTimeoutMs = 10_000;
/** The CN the handler requires in the controller's client certificate. */
export const consoleClientCommonName = "bunvirt-controller";
/** The ConfigMap (in the roles' namespace) with the CA that signs the controller's client certificate. */
export const consoleCaConfigMap = "bunvirt-ca";
export const consoleCaConfigMapKey = "ca.crt";
/** The handler's default console port (the base DaemonSet's `--console-addr 0.0.0.0:8187`). */
export const consoleDefaultPort = 8187;

export const consoleNotFound = 404;
export const consoleConflict = 409;
export const consoleInternalError = 500;
export const consoleNotRunningMessage = "VMI is not running";

export interface ConsoleRequest {
  namespace: string;
  name: string;
  uid: string;
}

export type ConsoleReplyCode = typeof consoleNotFound | typeof consoleConflict | typeof consoleInternalError;

export type ConsoleReply = { ok: true } | { ok: false; code: ConsoleReplyCode; message: string };

export interface ConsoleAnnotationValue {
  /** "IP:PORT" ("[v6]:PORT" for IPv6). */
  address: string;
  /** Lowercase hex SHA-256 of the serving certificate's DER, no colons. */
  sha256: string;
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const uidForm = /^[0-9a-fA-F-]{1,64}$/;
const hexSha256 = /^[0-9a-f]{64}$/;

function objectOf(line: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`${what}: not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${what}: not a JSON object`);
  return value as Record<string, unknown>;
}

function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw new Error(`${what}: unknown field "${key.slice(0, 64)}"`);
  }
}

function stringField(obj: Record<string, unknown>, field: string, what: string): string {
  const value = obj[field];
  if (typeof value !== "string") throw new Error(`${what}: field "${field}" must be a string`);
  return value;
}

/** The controller's request line, checked: names as Kubernetes allows them, a UID's form. */
export function parseConsoleRequest(line: string): ConsoleRequest {
  const what = "console request";
  const obj = objectOf(line, what);
  onlyKeys(obj, ["namespace", "name", "uid"], what);
  const namespace = stringField(obj, "namespace", what);
  const name = stringField(obj, "name", what);
  const uid = stringField(obj, "uid", what);
  if (namespace.length > 63 || !dnsLabel.test(namespace)) throw new Error(`${what}: field "namespace" must be a DNS label (at most 63 of a-z, 0-9, "-")`);
  if (name.length > 253 || !dnsSubdomain.test(name)) throw new Error(`${what}: field "name" must be a DNS subdomain (at most 253 of a-z, 0-9, "-", ".")`);
  if (!uidForm.test(uid)) throw new Error(`${what}: field "uid" must be a UID (hex digits and "-", at most 64)`);
  return { namespace, name, uid };
}

/** The handler's reply line, checked. */
export function parseConsoleReply(line: string): ConsoleReply {
  const what = "console reply";
  const obj = objectOf(line, what);
  if (obj.ok === true) {
    onlyKeys(obj, ["ok"], what);
    return { ok: true };
  }
  if (obj.ok !== false) throw new Error(`${what}: field "ok" must be true or false`);
  onlyKeys(obj, ["ok", "code", "message"], what);
  const code = obj.code;
  if (code !== consoleNotFound && code !== consoleConflict && code !== consoleInternalError) {
    throw new Error(`${what}: field "code" must be 404, 409 or 500`);
  }
  const message = stringField(obj, "message", what);
  return { ok: false, code, message: message.slice(0, 1024) };
}

/** The Node annotation's value, checked. */
export function parseConsoleAnnotation(text: string): ConsoleAnnotationValue {
  const what = `annotation ${consoleAnnotation}`;
  if (text.length > consoleMaxLineBytes) throw new Error(`${what}: longer than ${consoleMaxLineBytes} characters`);
  const obj = objectOf(text, what);
  onlyKeys(obj, ["address", "sha256"], what);
  const address = stringField(obj, "address", what);
  const sha256 = stringField(obj, "sha256", what);
  if (splitHostPort(address) === null) throw new Error(`${what}: field "address" must be HOST:PORT with a port 1-65535`);
  if (!hexSha256.test(sha256)) throw new Error(`${what}: field "sha256" must be 64 lowercase hex digits`);
  return { address, sha256 };
}

export function formatConsoleAnnotation(value: ConsoleAnnotationValue): string {
  return JSON.stringify({ address: value.address, sha256: value.sha256 });
}

/** "IP:PORT" or "[IPv6]:PORT" → host (without brackets) and port; null when malformed. */
export function splitHostPort(address: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(address);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: (m[1] ?? m[2])!, port };
}

/** The pinned digest of a certificate: lowercase hex SHA-256 of its DER. */
export function certificateSha256(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}

/** node:tls' `fingerprint256` ("AB:CD:...") in the annotation's form ("abcd..."). */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replaceAll(":", "").toLowerCase();
}

/** One protocol line as bytes, "\n" appended; refused when over the cap. */
export function encodeConsoleLine(value: ConsoleRequest | ConsoleReply): Buffer {
  const bytes = Buffer.from(`${JSON.stringify(value)}\n`, "utf8");
  if (bytes.length > consoleMaxLineBytes) throw new Error(`console line: ${bytes.length} bytes, more than ${consoleMaxLineBytes}`);
  return bytes;
}

/** Writes one protocol line; resolves when it has been handed to the socket. */
export function writeConsoleLine(socket: Duplex, value: ConsoleRequest | ConsoleReply): Promise<void> {
  const bytes = encodeConsoleLine(value);
  return new Promise((resolve, reject) => {
    socket.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}

/** Why a line could not be read (a socket's own error is passed on as it is). */
export class ConsoleLineError extends Error {
  constructor(readonly kind: "too-long" | "ended" | "timeout", message: string) {
    super(message);
  }
}

export interface ConsoleLine {
  /** The line without its "\n". */
  line: string;
  /** Bytes that came after the "\n" in the same reads: the first console bytes, to be relayed. */
  rest: Buffer;
}

/**
 * Reads one "\n"-terminated line of at most `maxBytes` (with the "\n") from a
 * socket, within `timeoutMs`. Rejects on a longer line, end of stream before
 * the "\n", an error, or the timeout. The socket is left paused with its
 * 'data' listener removed; the bytes read past the line are in `rest`.
 */
export function readConsoleLine(
  socket: Duplex,
  options: { maxBytes?: number; timeoutMs?: number } = {},
): Promise<ConsoleLine> {
  const maxBytes = options.maxBytes ?? consoleMaxLineBytes;
  const timeoutMs = options.timeoutMs ?? consoleLineTimeoutMs;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (error: Error | null, value?: ConsoleLine): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      socket.off("error", onError);
      socket.pause();
      if (error) reject(error);
      else resolve(value!);
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
      const nl = buf.indexOf(0x0a);
      if (nl === -1) {
        size += buf.length;
        if (size >= maxBytes) return finish(new ConsoleLineError("too-long", `console line: longer than ${maxBytes} bytes`));
        chunks.push(buf);
        return;
      }
      if (size + nl + 1 > maxBytes) return finish(new ConsoleLineError("too-long", `console line: longer than ${maxBytes} bytes`));
      chunks.push(buf.subarray(0, nl));
      finish(null, { line: Buffer.concat(chunks).toString("utf8"), rest: Buffer.from(buf.subarray(nl + 1)) });
    };
    const onEnd = (): void => finish(new ConsoleLineError("ended", "console line: the stream ended before the end of the line"));
    const onError = (error: Error): void => finish(error);
    const timer = setTimeout(() => finish(new ConsoleLineError("timeout", `console line: none within ${timeoutMs} ms`)), timeoutMs);
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("close", onEnd);
    socket.on("error", onError);
    socket.resume();
  });
}
