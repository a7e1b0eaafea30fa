/**
 * `bunvirt console NAME`: the VMI's serial console over the API server's
 * WebSocket (subprotocol plain.kubevirt.io, binary frames of raw serial
 * bytes both ways), as virtctl console. Ctrl-] (0x1d) leaves; so does EOF
 * of a stdin that is not a terminal, after a short drain of the guest's
 * answer. A refused upgrade exits 1 with the API server's message; 400 (the
 * VMI not ready yet) is retried until --timeout, as virtctl does.
 */
import { kubeFetch } from "../../kube/api-client.ts";
import { UsageError } from "../usage.ts";
import { subresourcePath, type VirtConnection } from "./connection.ts";
import { statusMessage } from "./status-message.ts";

export const consoleFlags = { timeout: { type: "string" } } as const;

export const escapeByte = 0x1d;
export const consoleProtocol = "plain.kubevirt.io";

export interface ConsoleIo {
  stdin: AsyncIterable<Uint8Array>;
  stdout(bytes: Uint8Array): void;
  /** Text for stderr (no newline added). */
  stderr(text: string): void;
  /** Present when stdin is a terminal: raw mode on while connected, off again at the end. */
  tty?: { setRaw(on: boolean): void } | undefined;
  /** Aborted on SIGINT/SIGTERM/SIGHUP: leave as with Ctrl-]. */
  stop?: AbortSignal | undefined;
  /** After stdin's EOF, how long the guest's output is still copied (default 2000 ms). */
  drainMs?: number;
  /** Between retries of a 400 answer (default 1000 ms). */
  retryMs?: number;
}

/** Bytes queued for the server beyond which stdin is not read until they are sent. */
const maxBuffered = 1024 * 1024;

/** How long the WebSocket handshake may take before it is given up. */
const handshakeTimeoutMs = 60_000;

/** --timeout: minutes to wait for the VMI to be ready (virtctl's default 5). */
export function timeoutFlag(value: unknown): number {
  if (value === undefined) return 5;
  if (typeof value !== "string" || !/^[0-9]{1,6}$/.test(value)) throw new UsageError(`--timeout "${String(value)}" is not a whole number of minutes`);
  return Number(value);
}

type Opened = { ws: WebSocket } | { code: number; message: string };

export async function consoleVmi(conn: VirtConnection, name: string, values: Record<string, unknown>, io: ConsoleIo): Promise<number> {
  const deadline = Date.now() + timeoutFlag(values.timeout) * 60_000;
  const path = subresourcePath(conn.namespace, "virtualmachineinstances", name, "console");
  const url = conn.server.replace(/^http/, "ws") + path;
  let opened: Opened;
  for (;;) {
    opened = await openConsole(conn, url, path, io);
    if ("ws" in opened || opened.code !== 400 || Date.now() >= deadline || io.stop?.aborted === true) break;
    await Bun.sleep(io.retryMs ?? 1000);
  }
  if (!("ws" in opened)) {
    io.stderr(opened.code === 0 ? `Can't connect to websocket: ${opened.message}\n` : `Can't connect to websocket (${opened.code}): ${opened.message}\n`);
    return 1;
  }
  io.stderr(`Successfully connected to ${name} console. Press Ctrl+] or Ctrl+5 to exit console.\n`);
  return relay(opened.ws, io);
}

/** The WebSocket once open, or why it is not: the HTTP status and the API server's message. */
async function openConsole(conn: VirtConnection, url: string, path: string, io: ConsoleIo): Promise<Opened> {
  const headers = await conn.authHeaders(conn.server + path);
  const result = await new Promise<{ ws: WebSocket } | { error: string }>((resolve) => {
    const ws = new WebSocket(url, { protocols: [consoleProtocol], headers, tls: conn.tls });
    ws.binaryType = "arraybuffer";
    let error = "";
    const giveUp = (why: string): void => {
      if (error === "") error = why;
      ws.close();
    };
    const timer = setTimeout(() => giveUp(`no answer within ${handshakeTimeoutMs / 1000} s`), handshakeTimeoutMs);
    const interrupted = (): void => giveUp("interrupted");
    if (io.stop?.aborted === true) interrupted();
    io.stop?.addEventListener("abort", interrupted, { once: true });
    // Bytes may follow the open at once: they go out from the start.
    ws.onmessage = (e) => io.stdout(frameBytes(e.data));
    ws.onopen = () => {
      clearTimeout(timer);
      io.stop?.removeEventListener("abort", interrupted);
      resolve({ ws });
    };
    ws.onerror = (e) => {
      if (error === "") error = (e as ErrorEvent).message ?? "the connection failed";
    };
    ws.onclose = (e) => {
      clearTimeout(timer);
      io.stop?.removeEventListener("abort", interrupted);
      resolve({ error: error !== "" ? error : `closed with code ${e.code}` });
    };
  });
  if ("ws" in result) return result;
  // Bun's WebSocket names the status of a refused upgrade but not its body: ask again for the Status, as an upgrade
  // (a server may check the upgrade before it asks the node) but without a Sec-WebSocket-Key, so it is never accepted.
  const refused = /Expected 101 status code: (\d{3})/.exec(result.error);
  if (refused === null) return { code: 0, message: result.error };
  const code = Number(refused[1]);
  try {
    const res = await kubeFetch(conn.kc, path, { headers: { accept: "application/json", connection: "Upgrade", upgrade: "websocket" }, signal: AbortSignal.timeout(10_000) });
    if (res.status === code) return { code, message: await statusMessage(res) };
    await res.body?.cancel().catch(() => undefined);
  } catch {
    // the status alone, below
  }
  return { code, message: `Websocket failed with http status: ${code}` };
}

function frameBytes(data: unknown): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof data === "string") return new TextEncoder().encode(data);
  return data as Uint8Array;
}

/** Copies stdin to the guest and the guest to stdout until either side ends; 0 when we left or the server closed normally. */
function relay(ws: WebSocket, io: ConsoleIo): Promise<number> {
  return new Promise<number>((resolve) => {
    let done = false;
    let leaving = false;
    io.tty?.setRaw(true);
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      io.tty?.setRaw(false);
      io.stop?.removeEventListener("abort", leave);
      resolve(code);
    };
    function leave(): void {
      if (leaving) return;
      leaving = true;
      // Close after what was sent; the close handshake ends it, or this timer when the server does not answer it.
      ws.close(1000);
      setTimeout(() => finish(0), 2000).unref();
    }
    ws.onclose = (e) => {
      if (leaving || e.code === 1000 || e.code === 1005) return finish(0);
      io.stderr(`\r\nYou were disconnected from the console (code ${e.code}${e.reason !== "" ? `: ${e.reason}` : ""}). This could be caused by one of the following:\r\n - the target VM was powered off\r\n - another user connected to the console of the target VM\r\n - network issues\r\n`);
      finish(1);
    };
    if (io.stop?.aborted === true) return leave();
    io.stop?.addEventListener("abort", leave);
    void (async () => {
      try {
        for await (const chunk of io.stdin) {
          if (done || leaving) return;
          const at = chunk.indexOf(escapeByte);
          const send = at < 0 ? chunk : chunk.subarray(0, at);
          if (send.length > 0) ws.send(send);
          if (at >= 0) return leave();
          // A fast stdin (a pasted file) waits for the socket rather than growing its buffer.
          while (ws.bufferedAmount > maxBuffered && ws.readyState === WebSocket.OPEN) await Bun.sleep(10);
        }
      } catch (e) {
        io.stderr(`reading stdin: ${(e as Error).message}\n`);
      }
      // EOF: the guest's answer to what was sent still comes for a moment.
      if (!done && !leaving) setTimeout(leave, io.drainMs ?? 2000);
    })();
  });
}
