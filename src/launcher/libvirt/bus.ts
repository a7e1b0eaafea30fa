/**
 * A small D-Bus transport over dbus-next's MessageBus: method calls with a
 * per-call timeout (dbus-next has none: a lost reply would hang forever),
 * every pending call rejected when the connection goes away, and raw signal
 * delivery. libvirt-specific code lives in client.ts.
 */
import { EventEmitter } from "node:events";
import { Message, MessageType, sessionBus, type MessageBus } from "dbus-next";
import { DbusCallError } from "./errors.ts";

export interface DbusMethodCall {
  readonly destination: string;
  readonly path: string;
  readonly iface: string;
  readonly member: string;
  /** D-Bus signature of `body`, e.g. "su"; omit for no arguments. */
  readonly signature?: string;
  readonly body?: readonly unknown[];
  readonly timeoutMs: number;
}

export interface DbusSignal {
  readonly sender: string;
  readonly path: string;
  readonly iface: string;
  readonly member: string;
  readonly body: readonly unknown[];
}

/** What the libvirt client needs from a bus connection (a fake in unit tests). */
export interface DbusTransport {
  readonly connected: boolean;
  /** Resolves with the reply body; rejects with DbusCallError. */
  call(call: DbusMethodCall): Promise<unknown[]>;
  onSignal(listener: (signal: DbusSignal) => void): () => void;
  /** Called once when the connection ends (not after close()). */
  onClose(listener: (reason: string) => void): () => void;
  close(): void;
}

export interface OpenBusOptions {
  /** Time for the socket connection, SASL handshake and Hello. Default 10 s. */
  readonly connectTimeoutMs?: number;
}

interface Pending {
  readonly resolve: (body: unknown[]) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly what: string;
}

class DbusNextTransport implements DbusTransport {
  #bus: MessageBus;
  #pending = new Map<number, Pending>();
  #signals = new Set<(signal: DbusSignal) => void>();
  #closeListeners = new Set<(reason: string) => void>();
  #closed = false;

  constructor(bus: MessageBus) {
    this.#bus = bus;
    bus.on("message", (msg) => this.#onMessage(msg));
    bus.on("error", (err: unknown) => this.#lost(`bus connection error: ${err instanceof Error ? err.message : String(err)}`));
    // MessageBus does not forward the stream's end; its connection does.
    const connection = (bus as unknown as { _connection?: unknown })._connection;
    if (connection instanceof EventEmitter) connection.on("end", () => this.#lost("the bus closed the connection"));
  }

  get connected(): boolean {
    return !this.#closed;
  }

  call(call: DbusMethodCall): Promise<unknown[]> {
    const what = `${call.iface}.${call.member} on ${call.path}`;
    if (this.#closed) return Promise.reject(new DbusCallError(`no connection to the bus for ${what}`, null));
    return new Promise<unknown[]>((resolve, reject) => {
      const msg = new Message({
        destination: call.destination,
        path: call.path,
        interface: call.iface,
        member: call.member,
        ...(call.signature !== undefined ? { signature: call.signature, body: [...(call.body ?? [])] } : {}),
      });
      const serial = this.#bus.newSerial();
      msg.serial = serial;
      const timer = setTimeout(() => {
        this.#pending.delete(serial);
        reject(new DbusCallError(`no reply to ${what} within ${call.timeoutMs} ms`, null));
      }, call.timeoutMs);
      this.#pending.set(serial, { resolve, reject, timer, what });
      try {
        this.#bus.send(msg);
      } catch (error) {
        clearTimeout(timer);
        this.#pending.delete(serial);
        reject(new DbusCallError(`cannot send ${what}: ${error instanceof Error ? error.message : String(error)}`, null, { cause: error }));
      }
    });
  }

  onSignal(listener: (signal: DbusSignal) => void): () => void {
    this.#signals.add(listener);
    return () => this.#signals.delete(listener);
  }

  onClose(listener: (reason: string) => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rejectAll("the connection was closed");
    this.#closeListeners.clear();
    try {
      this.#bus.disconnect();
    } catch {
      // already gone
    }
  }

  #lost(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rejectAll(reason);
    for (const listener of [...this.#closeListeners]) listener(reason);
    this.#closeListeners.clear();
    try {
      this.#bus.disconnect();
    } catch {
      // already gone
    }
  }

  #rejectAll(reason: string): void {
    for (const [serial, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new DbusCallError(`no reply to ${pending.what}: ${reason}`, null));
      this.#pending.delete(serial);
    }
  }

  #onMessage(msg: Message): void {
    if (msg.type === MessageType.METHOD_RETURN || msg.type === MessageType.ERROR) {
      const serial = Number(msg.replySerial);
      const pending = this.#pending.get(serial);
      if (!pending) return; // dbus-next's own calls (Hello, AddMatch via bus.call) or timed out ones
      this.#pending.delete(serial);
      clearTimeout(pending.timer);
      const body: unknown[] = Array.isArray(msg.body) ? msg.body : [];
      if (msg.type === MessageType.ERROR) {
        const text = typeof body[0] === "string" ? body[0] : msg.errorName;
        pending.reject(new DbusCallError(text, msg.errorName));
      } else {
        pending.resolve(body);
      }
    } else if (msg.type === MessageType.SIGNAL) {
      const signal: DbusSignal = {
        sender: msg.sender,
        path: msg.path,
        iface: msg.interface,
        member: msg.member,
        body: Array.isArray(msg.body) ? msg.body : [],
      };
      for (const listener of [...this.#signals]) listener(signal);
    }
  }
}

/**
 * Connects to a bus listening on a unix socket. dbus-next splits addresses
 * on "," ";" "=" and does not unescape, so those characters are refused.
 */
export async function openBus(socketPath: string, options: OpenBusOptions = {}): Promise<DbusTransport> {
  if (/[,;=]/.test(socketPath)) {
    throw new Error(`Cannot connect to the bus at "${socketPath}": the path contains "," ";" or "="`);
  }
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const bus = sessionBus({ busAddress: `unix:path=${socketPath}` });
  let onConnect = (): void => {};
  let onError = (_err: unknown): void => {};
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no Hello reply within ${timeoutMs} ms`)), timeoutMs);
      onConnect = () => {
        clearTimeout(timer);
        resolve();
      };
      onError = (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      bus.once("connect", onConnect);
      bus.on("error", onError);
    });
  } catch (error) {
    bus.on("error", () => {}); // late stream errors of an abandoned bus must not go unhandled
    try {
      bus.disconnect();
    } catch {
      // never connected
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot connect to the bus at "${socketPath}": ${reason}`, { cause: error });
  } finally {
    bus.removeListener("connect", onConnect);
    bus.removeListener("error", onError);
  }
  return new DbusNextTransport(bus);
}
