/**
 * GET .../virtualmachineinstances/NAME/console: a WebSocket (subprotocol
 * plain.kubevirt.io, binary frames of raw serial bytes both ways) relayed to
 * the handler on the VMI's node (handler-dial.ts). The VMI is checked and
 * the handler dialled before the upgrade, so a refusal is an HTTP Status
 * the clients print: 404 no VMI, 409 "VMI is in failed status", 400 "VMI is
 * not running" (KubeVirt's answers: virtctl waits and retries on 400), and
 * the handler's own 404/409/500.
 */
import type { Server, ServerWebSocket } from "bun";
import type { TLSSocket } from "node:tls";
import { isNotFound, type KubeRest } from "../../../kube/rest.ts";
import type { Vmi } from "../model.ts";
import type { Dialed } from "./handler-dial.ts";
import { badRequest, conflict, internalError, notFound, vmiResource } from "./status.ts";

export const consoleSubprotocol = "plain.kubevirt.io";

export interface ConsoleSession {
  kind: "console";
  socket: TLSSocket;
  rest: Buffer;
}

/** KubeVirt's validateVMIForConsole (without the serial-console switch, which bunvirt does not have). */
export function checkVmiForConsole(vmi: Vmi): void {
  const name = vmi.metadata.name ?? "";
  if (vmi.status?.phase === "Failed") throw conflict(vmiResource, name, "VMI is in failed status");
  if (vmi.status?.phase !== "Running" || vmi.status.nodeName === undefined || vmi.status.nodeName === "") throw badRequest("VMI is not running");
}

export async function readVmi(rest: Pick<KubeRest, "get">, ns: string, name: string): Promise<Vmi> {
  try {
    return await rest.get<Vmi>(`/apis/kubevirt.io/v1/namespaces/${encodeURIComponent(ns)}/virtualmachineinstances/${encodeURIComponent(name)}`);
  } catch (e) {
    if (isNotFound(e)) throw notFound(vmiResource, name);
    throw internalError(`unable to retrieve vmi [${name}]: ${(e as Error).message}`);
  }
}

/** Checks, dials, upgrades; undefined when upgraded, a Response otherwise. */
export async function openConsole(
  req: Request,
  server: Server<ConsoleSession>,
  rest: Pick<KubeRest, "get">,
  dial: (vmi: Vmi) => Promise<Dialed>,
  ns: string,
  name: string,
): Promise<Response | undefined> {
  const vmi = await readVmi(rest, ns, name);
  checkVmiForConsole(vmi);
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") throw badRequest("the console is a WebSocket: send an Upgrade: websocket request");
  const dialed = await dial(vmi);
  const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
  const headers: Record<string, string> = offered.includes(consoleSubprotocol) ? { "Sec-WebSocket-Protocol": consoleSubprotocol } : {};
  if (!server.upgrade(req, { data: { kind: "console", socket: dialed.socket, rest: dialed.rest }, headers })) {
    dialed.socket.destroy();
    throw badRequest("the console is a WebSocket: the upgrade failed");
  }
  return undefined;
}

/** Bun's WebSocket handlers for console sessions: relay until either side ends. */
export const consoleWebSocket = {
  /** A quiet console stays open: pings keep it alive, the longest idle time Bun allows. */
  idleTimeout: 960,
  open(ws: ServerWebSocket<ConsoleSession>): void {
    const { socket, rest } = ws.data;
    if (rest.length > 0) ws.sendBinary(rest);
    socket.on("data", (chunk: Buffer) => {
      // Backpressure: hold the handler's bytes until the client has taken these.
      if (ws.sendBinary(chunk) === -1) socket.pause();
    });
    const end = (): void => ws.close(1000, "console closed");
    socket.once("end", end);
    socket.once("close", end);
    socket.once("error", end);
    socket.resume();
  },
  drain(ws: ServerWebSocket<ConsoleSession>): void {
    ws.data.socket.resume();
  },
  message(ws: ServerWebSocket<ConsoleSession>, message: string | Buffer): void {
    ws.data.socket.write(typeof message === "string" ? Buffer.from(message, "utf8") : message);
  },
  close(ws: ServerWebSocket<ConsoleSession>): void {
    ws.data.socket.destroy();
  },
};
