/**
 * The aggregated API's listener (--subresource-addr): TLS with the replicas'
 * serving certificate, asking every client for a certificate. A connection
 * is served only when its certificate chains to the API server's
 * requestheader client CA and its CN is one of requestheader-allowed-names
 * (when that list is non-empty); anything else is destroyed at once, with
 * no HTTP byte written: a request without the API server's front-proxy
 * certificate gets nothing. Served connections are piped raw to the inner
 * HTTP server (inner-app.ts) on a unix socket in a 0700 directory, which
 * then may trust the X-Remote-* headers.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import type { Server } from "bun";
import { parseHostPort } from "../../../health/listen.ts";
import { type ConsoleSession, consoleWebSocket } from "./console-proxy.ts";
import { allowedName, type RequestHeaderConfig } from "./request-header.ts";

export interface FrontDoorOptions {
  addr: string;
  certPem: string;
  keyPem: string;
  fetch: (req: Request, server: Server<ConsoleSession>) => Promise<Response | undefined>;
  log: { warn(line: string): void };
}

export interface FrontDoor {
  /** The address bound (port 0 resolved). */
  address: string;
  /** The front-proxy settings changed (or arrived): new connections are checked against them. */
  setConfig(config: RequestHeaderConfig): void;
  /** A renewed serving certificate: new handshakes get it. */
  setCertificate(certPem: string, keyPem: string): void;
  config(): RequestHeaderConfig | undefined;
  stop(): Promise<void>;
}

const maxRequestBodySize = 1024 * 1024;
/** The API server's proxy keeps a few connections per replica; anything near this is a flood. */
const maxConnections = 512;

export async function openFrontDoor(opts: FrontDoorOptions): Promise<FrontDoor> {
  let certPem = opts.certPem;
  let keyPem = opts.keyPem;
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-subresources-"));
  const path = join(dir, "subresources.sock");
  const inner = Bun.serve<ConsoleSession>({
    unix: path,
    fetch: opts.fetch,
    websocket: consoleWebSocket,
    maxRequestBodySize,
  });
  let config: RequestHeaderConfig | undefined;
  const sockets = new Set<net.Socket>();
  const { hostname, port } = parseHostPort(opts.addr);
  // A peer that never finishes its handshake is cut after 10 s (tlsClientError below closes it).
  const server = tls.createServer({ cert: opts.certPem, key: opts.keyPem, requestCert: true, rejectUnauthorized: false, handshakeTimeout: 10_000 });
  server.maxConnections = maxConnections;
  server.on("secureConnection", (socket: tls.TLSSocket) => {
    const cn = socket.getPeerCertificate()?.subject?.CN;
    const commonName = Array.isArray(cn) ? cn[0] : cn;
    if (config === undefined || !socket.authorized || !allowedName(config, commonName)) {
      socket.destroy();
      return;
    }
    const upstream = net.connect({ path });
    sockets.add(socket);
    const end = (): void => {
      sockets.delete(socket);
      socket.destroy();
      upstream.destroy();
    };
    socket.on("error", end);
    upstream.on("error", end);
    socket.on("close", end);
    upstream.on("close", end);
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
  server.on("tlsClientError", (_e, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as net.AddressInfo).port;
  return {
    address: `${hostname.includes(":") ? `[${hostname}]` : hostname}:${bound}`,
    setConfig(next) {
      config = next;
      server.setSecureContext({ cert: certPem, key: keyPem, ca: next.caPem });
    },
    setCertificate(cert, key) {
      certPem = cert;
      keyPem = key;
      server.setSecureContext({ cert, key, ...(config !== undefined ? { ca: config.caPem } : {}) });
    },
    config: () => config,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await inner.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
