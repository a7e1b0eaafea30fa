/** Serving a Hono app over plain HTTP on HOST:PORT or a unix socket. */
import type { Hono } from "hono";

export interface Listener {
  /** The address actually bound (port 0 resolved). */
  address: string;
  stop(): Promise<void>;
}

export function parseHostPort(addr: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`Cannot listen: "${addr}" is not HOST:PORT`);
  }
  return { hostname: m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]!), port };
}

export function listenTcp(app: Hono, addr: string): Listener {
  const { hostname, port } = parseHostPort(addr);
  const server = Bun.serve({ hostname, port, fetch: app.fetch });
  return {
    address: `${hostname.includes(":") ? `[${hostname}]` : hostname}:${server.port}`,
    stop: async () => {
      await server.stop(true);
    },
  };
}
