/**
 * The handler's console server: the controller's replicas reach a VMI's
 * serial console through it (the controller relays the user's WebSocket).
 * Mutual TLS: the handler's own certificate (pinned by the controller through
 * the Node annotation, console-protocol.ts) and the controller's client
 * certificate, which must chain to the CA of ConfigMap `bunvirt-ca` and name
 * `bunvirt-controller`; any other peer is cut before a byte is written. Then
 * one request line, one reply line, and the serial bytes both ways until
 * either side ends. One console per VMI at a time, as KubeVirt's
 * virt-handler: a new one closes the one before.
 */
import { createServer, type Server, type TLSSocket } from "node:tls";
import type { Duplex } from "node:stream";
import type { Logger } from "../../log/logger.ts";
import {
  consoleClientCommonName,
  consoleInternalError,
  consoleLineTimeoutMs,
  parseConsoleRequest,
  readConsoleLine,
  writeConsoleLine,
  type ConsoleReply,
  type ConsoleRequest,
} from "./console-protocol.ts";

export * from "./console-protocol.ts";

/** Where a request leads: a refusal, or how to reach the VMI's serial console. */
export type ConsoleLookup =
  | Extract<ConsoleReply, { ok: false }>
  | { ok: true; /** The VMI's uid: the one-console slot. */ uid: string; connect(): Promise<Duplex> };

export interface ConsoleServerOptions {
  /** Host and port to listen on (port 0: any). */
  host: string;
  port: number;
  /** The handler's serving certificate and key (PEM). */
  certPem: string;
  keyPem: string;
  /** The CA for the controller's client certificate (PEM); without one every connection is cut. */
  clientCaPem?: string;
  lookup(request: ConsoleRequest): ConsoleLookup;
  log: Logger;
  /** Default 10 s, for the TLS handshake and for the request line each. */
  timeoutMs?: number;
  /** Connections at once (default 64). */
  maxConnections?: number;
  /** Called when a client is cut for its certificate (the CA may have changed since it was read). */
  onRefused?: () => void;
}

export class ConsoleServer {
  readonly #opts: ConsoleServerOptions;
  readonly #server: Server;
  #clientCaPem: string | undefined;
  /** VMI uid -> the open console: its TLS socket and how to end it. */
  readonly #open = new Map<string, { socket: TLSSocket; end: () => void }>();
  readonly #sockets = new Set<TLSSocket>();

  constructor(opts: ConsoleServerOptions) {
    this.#opts = opts;
    this.#clientCaPem = opts.clientCaPem;
    this.#server = createServer({ ...this.#context(), requestCert: true, rejectUnauthorized: true, handshakeTimeout: opts.timeoutMs ?? consoleLineTimeoutMs });
    this.#server.maxConnections = opts.maxConnections ?? 64;
    this.#server.on("secureConnection", (socket: TLSSocket) => void this.#serve(socket));
    this.#server.on("tlsClientError", (e: Error, socket: TLSSocket) => {
      opts.log.debug(`console: a TLS client refused: ${e.message}`);
      // Bun reports a handshake timeout without closing the socket: close it here.
      socket.destroy();
      opts.onRefused?.();
    });
  }

  #context(): { cert: string; key: string; ca?: string } {
    // Without the controller's CA no client can pass: the server's own certificate stands in as the
    // only trusted CA (a leaf, it signs nothing), and #serve cuts every connection anyway.
    return { cert: this.#opts.certPem, key: this.#opts.keyPem, ca: this.#clientCaPem ?? this.#opts.certPem };
  }

  /** Listens; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#opts.port, this.#opts.host, () => {
        this.#server.off("error", reject);
        const addr = this.#server.address();
        resolve(typeof addr === "object" && addr !== null ? addr.port : this.#opts.port);
      });
    });
  }

  /** A new CA for the controller's certificate (ConfigMap `bunvirt-ca` changed); undefined: refuse everyone. */
  setClientCa(pem: string | undefined): void {
    if (pem === this.#clientCaPem) return;
    this.#clientCaPem = pem;
    this.#server.setSecureContext(this.#context());
  }

  get clientCaPem(): string | undefined {
    return this.#clientCaPem;
  }

  /** Consoles open now. */
  get openConsoles(): number {
    return this.#open.size;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  async #serve(socket: TLSSocket): Promise<void> {
    const log = this.#opts.log;
    const cn = socket.getPeerCertificate()?.subject?.CN;
    if (this.#clientCaPem === undefined || !socket.authorized || cn !== consoleClientCommonName) {
      log.warn(`console: a client refused (${this.#clientCaPem === undefined ? "no controller CA yet" : !socket.authorized ? "certificate not trusted" : `certificate for "${String(cn).slice(0, 64)}", not "${consoleClientCommonName}"`}) from ${socket.remoteAddress ?? "?"}`);
      socket.destroy();
      this.#opts.onRefused?.();
      return;
    }
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    socket.on("error", (e) => log.debug(`console: connection error: ${e.message}`));
    let request: ConsoleRequest;
    let rest: Buffer;
    try {
      const line = await readConsoleLine(socket, { timeoutMs: this.#opts.timeoutMs ?? consoleLineTimeoutMs });
      rest = line.rest;
      request = parseConsoleRequest(line.line);
    } catch (e) {
      log.warn(`console: a bad request: ${(e as Error).message}`);
      socket.destroy();
      return;
    }
    const what = `VMI "${request.namespace}/${request.name}"`;
    const object = { kind: "VirtualMachineInstance", namespace: request.namespace, name: request.name, uid: request.uid };
    const refuse = async (reply: Extract<ConsoleReply, { ok: false }>): Promise<void> => {
      log(`console of ${what} refused: ${reply.code} ${reply.message}`, object);
      await writeConsoleLine(socket, reply).catch(() => undefined);
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    const target = this.#opts.lookup(request);
    if (!target.ok) return refuse(target);
    // One console per VMI, as KubeVirt's handler: a new one takes over and the
    // one before is closed (a client that vanished never holds the console).
    const before = this.#open.get(target.uid);
    if (before !== undefined) {
      log(`console of ${what}: a new connection takes over the one before`, object);
      before.end();
    }
    const mine = { socket, end: (): void => void socket.destroy() };
    this.#open.set(target.uid, mine);
    const free = (): void => {
      if (this.#open.get(target.uid) === mine) this.#open.delete(target.uid);
    };
    let serial: Duplex;
    try {
      serial = await target.connect();
    } catch (e) {
      free();
      log.warn(`console of ${what}: ${(e as Error).message}`, object);
      return refuse({ ok: false, code: consoleInternalError, message: `Cannot reach the serial console of ${what}` });
    }
    if (socket.destroyed) {
      free();
      serial.destroy();
      return;
    }
    await writeConsoleLine(socket, { ok: true }).catch(() => undefined);
    log(`console of ${what} opened`, object);
    if (rest.length > 0) serial.write(rest);
    mine.end = relay(socket, serial, () => {
      free();
      log(`console of ${what} closed`, object);
    });
  }
}

/** Bytes both ways until either side ends or fails (or the returned function is called); then both are closed and `onClosed` runs once. */
export function relay(a: Duplex, b: Duplex, onClosed: () => void): () => void {
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const s of [a, b]) {
      s.end();
      setTimeout(() => s.destroy(), 1000).unref();
    }
    onClosed();
  };
  for (const s of [a, b]) {
    s.on("error", close);
    s.once("end", close);
    s.once("close", close);
  }
  a.pipe(b, { end: false });
  b.pipe(a, { end: false });
  a.resume();
  b.resume();
  return close;
}
