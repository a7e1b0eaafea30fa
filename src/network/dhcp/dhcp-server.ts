/**
 * The I/O edge: a UDP socket on 0.0.0.0:67 in the pod's network namespace,
 * answering the one VM on `iface` (the pod's bridge).
 *
 * Delivery to a client without an address: every reply is sent by unicast
 * to the leased address, port 68. Before listening, the server installs a
 * permanent neighbour entry ADDRESS -> client MAC on `iface` and, when no
 * connected route covers ADDRESS there, a /32 route on `iface`. The kernel
 * then emits the reply straight to the client's MAC with no ARP and no
 * limited-broadcast route lookup; DHCP clients read the frame from a packet
 * socket before they have an address. Both are removed on stop().
 *
 * Only the leased address is ever mapped, never an address a packet names
 * (ciaddr, option 50): a guest must not be able to steer pod routes. So a
 * client renewing an address that is not its lease does not receive the NAK
 * (it is sent to the lease address); it falls back to discovery when its
 * lease runs out, and is then served.
 */
import { describeSystemError } from "../../errors/system-error.ts";
import { encode, decode } from "./packet.ts";
import { type DhcpLink, ipCommandLink } from "./link.ts";
import { type LeaseConfig, leaseConfigProblems } from "./lease-config.ts";
import { normalizeMac } from "../../api/mac.ts";
import { messageTypeName } from "./options.ts";
import { type Exchange, respond } from "./responder.ts";

export const SERVER_PORT = 67;
export const CLIENT_PORT = 68;

export interface DhcpServerOptions {
  /** The interface the VM is attached to (the pod's bridge). */
  iface: string;
  /** Neighbour/route management; default: iproute2's `ip`. */
  link?: DhcpLink;
  /** One line per exchange; default: none. */
  logger?: (line: string) => void;
  /** Address to bind; default "0.0.0.0" (broadcast DISCOVERs arrive there). */
  hostname?: string;
  /** Port to bind; default 67 (0 picks one, for tests). */
  port?: number;
  /** Port replies go to; default 68. */
  clientPort?: number;
}

export interface DhcpServer {
  /** The bound UDP port. */
  readonly port: number;
  /** Closes the socket and removes the neighbour entry and route it added. */
  stop(): Promise<void>;
}

function describe(ex: Exchange): string {
  const replyType = ex.reply === null ? "no reply" : messageTypeName(ex.reply.options.messageType);
  const note = ex.note === undefined ? "" : `: ${ex.note}`;
  return `dhcp ${ex.request} -> ${replyType} mac=${ex.mac ?? "?"} address=${ex.address}${note}`;
}

async function undoAll(steps: (() => Promise<void>)[]): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const step of steps.reverse()) {
    try {
      await step();
    } catch (e) {
      errors.push(e);
    }
  }
  return errors;
}

export async function startDhcpServer(config: LeaseConfig, opts: DhcpServerOptions): Promise<DhcpServer> {
  const { iface } = opts;
  const problems = leaseConfigProblems(config);
  if (problems.length > 0) throw new Error(`Cannot start DHCP server on "${iface}": ${problems.join("; ")}`);
  const link = opts.link ?? ipCommandLink();
  const log = opts.logger ?? ((): void => {});
  const clientPort = opts.clientPort ?? CLIENT_PORT;
  const mac = normalizeMac(config.clientMac) ?? config.clientMac;
  const { address } = config;

  const undo: (() => Promise<void>)[] = [];
  let socket: Bun.udp.Socket<"uint8array">;
  try {
    if (!(await link.hasConnectedRoute(iface, address))) {
      await link.addHostRoute(iface, address);
      undo.push(() => link.removeHostRoute(iface, address));
    }
    await link.setPermanentNeighbour(iface, address, mac);
    undo.push(() => link.removeNeighbour(iface, address));
    socket = await Bun.udpSocket({
      hostname: opts.hostname ?? "0.0.0.0",
      port: opts.port ?? SERVER_PORT,
      binaryType: "uint8array",
      socket: {
        data(sock, data, fromPort, fromAddress) {
          const request = decode(data);
          if (!request.ok) {
            log(`dhcp dropped ${data.length} bytes from ${fromAddress}:${fromPort}: ${request.error.message}`);
            return;
          }
          const ex = respond(request.packet, config);
          if (ex.kind === "ignored") return;
          if (ex.reply !== null) {
            let bytes: Uint8Array;
            try {
              bytes = encode(ex.reply);
            } catch (e) {
              log(`${describe(ex)}: not sent: ${e instanceof Error ? e.message : String(e)}`);
              return;
            }
            if (!sock.send(bytes, clientPort, address)) {
              log(`${describe(ex)}: not sent: the socket refused the datagram`);
              return;
            }
          }
          log(describe(ex));
        },
        // Bun may call this with no error at all (seen while the socket closes): never throw here.
        error(_sock, error: Error | undefined) {
          log(`dhcp socket error on "${iface}": ${error instanceof Error ? describeSystemError(error) : "no details given"}`);
        },
      },
    });
  } catch (cause) {
    const errors = await undoAll(undo);
    for (const e of errors) log(`dhcp cleanup after failed start: ${e instanceof Error ? e.message : String(e)}`);
    throw new Error(`Cannot start DHCP server on "${iface}" for "${address}": ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }

  let stopped: Promise<void> | null = null;
  return {
    port: socket.port,
    stop(): Promise<void> {
      stopped ??= (async () => {
        socket.close();
        const errors = await undoAll(undo);
        if (errors.length > 0) {
          throw new Error(`Cannot stop DHCP server on "${iface}" cleanly: ${errors.length} cleanup step(s) failed`, {
            cause: errors.length === 1 ? errors[0] : new AggregateError(errors),
          });
        }
      })();
      return stopped;
    },
  };
}
