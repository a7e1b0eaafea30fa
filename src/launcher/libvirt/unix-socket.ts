/**
 * Readiness probes on unix sockets. libvirtd logs an I/O error for every
 * client that connects and hangs up without speaking its protocol, so its
 * sockets are probed by existence (the supervisor removes a stale socket
 * before each spawn, so an existing one is the new daemon's); the bus is
 * probed by connecting.
 */
import { stat } from "node:fs/promises";
import { createConnection } from "node:net";

export async function socketExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isSocket();
  } catch {
    return false;
  }
}

export function canConnectUnix(path: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({ path });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on("error", () => {});
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
