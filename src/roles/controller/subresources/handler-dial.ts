/**
 * The controller's leg of a console: to the handler on the VMI's node. The
 * handler publishes its console address and its self-signed certificate's
 * SHA-256 on its Node (annotation kubevirt.io/bunvirt-console); the
 * controller connects with its client certificate (CN bunvirt-controller,
 * signed by the shared CA the handler trusts), pins the handler's
 * certificate by that digest (refused on a mismatch), sends the request line
 * and reads the answer (console-protocol.ts). On {"ok":true} the socket
 * carries the serial bytes both ways.
 *
 * A handler that cuts the connection before it answers has refused the
 * controller's certificate: most often it started before the leader published
 * the CA, or the CA was replaced since it last read it. It reads the CA again
 * when it cuts someone, so the dial is tried once more after a moment
 * (dialHandlerOnceMore) before the user sees the error.
 */
import tls from "node:tls";
import type { KubeRest } from "../../../kube/rest.ts";
import { isNotFound } from "../../../kube/rest.ts";
import {
  ConsoleLineError, consoleAnnotation, normalizeFingerprint, parseConsoleAnnotation, parseConsoleReply, readConsoleLine, splitHostPort, writeConsoleLine,
} from "../../handler/console-protocol.ts";
import type { Vmi } from "../model.ts";
import { conflict, internalError, notFound, StatusError, vmiResource } from "./status.ts";

export interface ClientCert {
  certPem: string;
  keyPem: string;
}

export interface Dialed {
  socket: tls.TLSSocket;
  /** Serial bytes that came with the handler's answer. */
  rest: Buffer;
}

const connectTimeoutMs = 10_000;
/** How long to wait before the one more dial after a cut (the handler reads its CA at most every 2 s). */
export const redialDelayMs = 2_500;

/** The handler cut the connection before answering (a refused certificate, a handler going away). */
export class HandlerCut extends StatusError {}

export type HandlerEndpoint = { host: string; port: number; sha256: string };

/** The handler's console address and certificate digest from its Node. */
export async function handlerEndpoint(rest: Pick<KubeRest, "get">, nodeName: string): Promise<{ host: string; port: number; sha256: string }> {
  let node: { metadata?: { annotations?: Record<string, string> } };
  try {
    node = await rest.get(`/api/v1/nodes/${encodeURIComponent(nodeName)}`);
  } catch (e) {
    if (isNotFound(e)) throw internalError(`the VMI's node "${nodeName}" does not exist`);
    throw internalError(`Cannot read the VMI's node "${nodeName}": ${(e as Error).message}`);
  }
  const text = node.metadata?.annotations?.[consoleAnnotation];
  if (text === undefined) throw internalError(`the handler on node "${nodeName}" serves no console (no annotation ${consoleAnnotation})`);
  let value;
  try {
    value = parseConsoleAnnotation(text);
  } catch (e) {
    throw internalError(`node "${nodeName}": ${(e as Error).message}`);
  }
  const hp = splitHostPort(value.address)!;
  return { ...hp, sha256: value.sha256 };
}

/** Connects, pins the certificate, exchanges the request line. Throws a StatusError. */
export async function dialHandler(endpoint: HandlerEndpoint, cert: ClientCert, vmi: Vmi): Promise<Dialed> {
  const name = vmi.metadata.name ?? "";
  const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({ host: endpoint.host, port: endpoint.port, cert: cert.certPem, key: cert.keyPem, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      s.destroy();
      reject(internalError(`Cannot reach the console of VMI "${name}" at ${endpoint.host}:${endpoint.port}: no TLS connection within ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    s.once("secureConnect", () => {
      clearTimeout(timer);
      const got = normalizeFingerprint(s.getPeerCertificate().fingerprint256 ?? "");
      if (got !== endpoint.sha256) {
        s.destroy();
        reject(internalError(`Cannot trust the handler at ${endpoint.host}:${endpoint.port}: its certificate's SHA-256 ${got || "(none)"} is not the one its Node publishes (${endpoint.sha256})`));
        return;
      }
      resolve(s);
    });
    s.once("error", (e) => {
      clearTimeout(timer);
      s.destroy();
      reject(new HandlerCut(internalError(`Cannot reach the console of VMI "${name}" at ${endpoint.host}:${endpoint.port}: ${e.message}`).body));
    });
  });
  let got: { line: string; rest: Buffer };
  try {
    await writeConsoleLine(socket, { namespace: vmi.metadata.namespace ?? "", name, uid: vmi.metadata.uid ?? "" });
    got = await readConsoleLine(socket);
  } catch (e) {
    socket.destroy();
    // Ended, or the socket's own error (a reset): cut. Too long or too late: the handler misbehaves; no second try.
    const cut = !(e instanceof ConsoleLineError) || e.kind === "ended";
    const body = internalError(`the handler's console of VMI "${name}": ${(e as Error).message}`).body;
    throw cut ? new HandlerCut(body) : new StatusError(body);
  }
  const { line, rest } = got;
  try {
    const reply = parseConsoleReply(line);
    if (reply.ok) return { socket, rest };
    socket.destroy();
    if (reply.code === 404) throw notFound(vmiResource, name);
    if (reply.code === 409) throw conflict(vmiResource, name, reply.message);
    throw internalError(reply.message);
  } catch (e) {
    socket.destroy();
    if (e instanceof StatusError) throw e;
    throw internalError(`the handler's console of VMI "${name}": ${(e as Error).message}`);
  }
}

/** dialHandler, and once more after `delayMs` when the handler cut the connection before answering. */
export async function dialHandlerOnceMore(endpoint: () => Promise<HandlerEndpoint>, cert: ClientCert, vmi: Vmi, delayMs = redialDelayMs): Promise<Dialed> {
  try {
    return await dialHandler(await endpoint(), cert, vmi);
  } catch (e) {
    if (!(e instanceof HandlerCut)) throw e;
  }
  await Bun.sleep(delayMs);
  return dialHandler(await endpoint(), cert, vmi);
}
