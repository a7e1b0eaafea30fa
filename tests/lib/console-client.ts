/**
 * A test client of the handler's console server, as the controller dials it:
 * TLS with a client certificate, the server's certificate pinned by its
 * SHA-256, one request line, one reply line, then raw bytes.
 */
import { connect, type TLSSocket } from "node:tls";
import {
  normalizeFingerprint,
  parseConsoleReply,
  readConsoleLine,
  writeConsoleLine,
  type ConsoleReply,
  type ConsoleRequest,
} from "../../src/roles/handler/console-protocol.ts";

export interface DialOptions {
  host: string;
  port: number;
  cert?: { certPem: string; keyPem: string };
  /** Expected sha256 of the server's certificate (lowercase hex); refused on mismatch. */
  sha256?: string;
}

/** TLS connection; resolves once the handshake is done (or rejects). */
export function dialTls(opts: DialOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: opts.host,
      port: opts.port,
      rejectUnauthorized: false,
      ...(opts.cert !== undefined ? { cert: opts.cert.certPem, key: opts.cert.keyPem } : {}),
    });
    socket.once("secureConnect", () => {
      const fp = normalizeFingerprint(socket.getPeerCertificate().fingerprint256 ?? "");
      if (opts.sha256 !== undefined && fp !== opts.sha256) {
        socket.destroy();
        reject(new Error(`server certificate sha256 ${fp}, expected ${opts.sha256}`));
        return;
      }
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

export interface OpenedConsole {
  socket: TLSSocket;
  reply: ConsoleReply;
  /** Bytes after the reply line. */
  rest: Buffer;
}

export async function openConsole(opts: DialOptions, request: ConsoleRequest): Promise<OpenedConsole> {
  const socket = await dialTls(opts);
  const reading = readConsoleLine(socket);
  await writeConsoleLine(socket, request);
  const { line, rest } = await reading;
  return { socket, reply: parseConsoleReply(line), rest };
}

/** Everything a socket gives until it closes (bounded by `timeoutMs`), and whether it ended with an error. */
export function drain(socket: TLSSocket, timeoutMs = 5000): Promise<{ bytes: Buffer; error: string | null }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | null = null;
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", (e) => (error = e.message));
    socket.once("close", () => {
      clearTimeout(timer);
      resolve({ bytes: Buffer.concat(chunks), error });
    });
    socket.resume();
  });
}

/** Reads from a stream until `pattern` shows up in what was read (or the timeout). */
export function waitFor(socket: NodeJS.ReadableStream, pattern: string | RegExp, timeoutMs: number, seen: { text: string } = { text: "" }): Promise<string> {
  return new Promise((resolve, reject) => {
    const matches = (): boolean => (typeof pattern === "string" ? seen.text.includes(pattern) : pattern.test(seen.text));
    if (matches()) return resolve(seen.text);
    const onData = (d: Buffer | string): void => {
      seen.text += d.toString();
      if (matches()) {
        cleanup();
        resolve(seen.text);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms; got ${JSON.stringify(seen.text.slice(-500))}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off("data", onData);
    };
    socket.on("data", onData);
    socket.resume();
  });
}
