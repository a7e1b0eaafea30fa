/**
 * Typed client for libvirt's QEMU driver through libvirt-dbus only: object
 * /org/libvirt/QEMU (org.libvirt.Connect) and one object per domain
 * (org.libvirt.Domain). Signatures are those of Debian 12's libvirt-dbus
 * 1.4.1 (/usr/share/dbus-1/interfaces/org.libvirt.*.xml), e.g.
 * DomainDefineXML(s) -> o (no flags), DomainCreateXML(su) -> o,
 * Domain.GetState(u) -> (ii), Connect signal DomainEvent(o, i event, i detail).
 *
 * The client reconnects on its own: a call made while the bus connection is
 * down first opens a new one (the stack also calls reconnect() after it
 * restarts dbus-daemon). Domain events are delivered from every connection.
 */
import { openBus, type DbusMethodCall, type DbusSignal, type DbusTransport } from "./bus.ts";
import {
  CONNECT_INTERFACE,
  DOMAIN_INTERFACE,
  LIBVIRT_BUS_NAME,
  QEMU_CONNECT_PATH,
  domainNameFromXml,
  uuidFromDomainPath,
} from "./domain-path.ts";
import { unwrapStatsAnswer, type RawDomainStats } from "./domain-stats.ts";
import { DbusCallError, wrapClientError } from "./errors.ts";
import {
  DESTROY_DEFAULT,
  DESTROY_GRACEFUL,
  SHUTDOWN_ACPI_POWER_BTN,
  SHUTDOWN_DEFAULT,
  domainEventDetail,
  domainEventType,
  domainStateName,
  type DomainEventType,
  type DomainStateName,
} from "./events.ts";

export interface DomainHandle {
  readonly name: string;
  readonly uuid: string;
  /** libvirt-dbus object path, stable across libvirt-dbus restarts. */
  readonly path: string;
}

export interface DomainState {
  readonly state: DomainStateName;
  /** The state's reason enum (virDomainRunningReason, virDomainShutoffReason, …). */
  readonly reason: number;
}

export interface DomainEvent {
  readonly type: DomainEventType;
  /** Detail as a name, e.g. "Booted", "Destroyed". */
  readonly detail: string;
  readonly typeCode: number;
  readonly detailCode: number;
  readonly path: string;
  readonly uuid: string | null;
}

export interface LibvirtClientOptions {
  /** Timeout of quick calls (state, XML, lists). Default 25 s, the usual D-Bus default. */
  readonly callTimeoutMs?: number;
  /**
   * Timeout of calls that can block on QEMU: define/create/start (a first
   * capability probe), destroy, shutdown, undefine. Default 10 min.
   */
  readonly longCallTimeoutMs?: number;
  /** Timeout of opening the bus connection. Default 10 s. */
  readonly connectTimeoutMs?: number;
}

export type TransportFactory = () => Promise<DbusTransport>;

const DBUS = { destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", iface: "org.freedesktop.DBus" } as const;

const EVENT_MATCH = [
  "type='signal'",
  `sender='${LIBVIRT_BUS_NAME}'`,
  `path='${QEMU_CONNECT_PATH}'`,
  `interface='${CONNECT_INTERFACE}'`,
  "member='DomainEvent'",
].join(",");

function asString(value: unknown, what: string): string {
  if (typeof value !== "string") throw new Error(`libvirt-dbus returned ${typeof value} for ${what}, expected a string`);
  return value;
}

function variantValue(value: unknown): unknown {
  return typeof value === "object" && value !== null && "value" in value ? (value as { value: unknown }).value : value;
}

export class LibvirtClient {
  readonly #open: TransportFactory;
  readonly #callTimeoutMs: number;
  readonly #longCallTimeoutMs: number;
  #transport: DbusTransport | null = null;
  #opening: Promise<DbusTransport> | null = null;
  #closed = false;
  readonly #eventListeners = new Set<(event: DomainEvent) => void>();
  readonly #disconnectListeners = new Set<(reason: string) => void>();

  /** Connects to the private bus at `socketPath` and wakes libvirt-dbus (ping). */
  static async connect(socketPath: string, options: LibvirtClientOptions = {}): Promise<LibvirtClient> {
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const client = new LibvirtClient(() => openBus(socketPath, { connectTimeoutMs }), options);
    try {
      await client.reconnect();
      await client.ping();
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  constructor(open: TransportFactory, options: LibvirtClientOptions = {}) {
    this.#open = open;
    this.#callTimeoutMs = options.callTimeoutMs ?? 25_000;
    this.#longCallTimeoutMs = options.longCallTimeoutMs ?? 600_000;
  }

  /** True while a bus connection is open. */
  get connected(): boolean {
    return this.#transport?.connected ?? false;
  }

  /** Drops the current bus connection (if any) and opens a new one, subscribed to domain events. */
  async reconnect(): Promise<void> {
    if (this.#closed) throw wrapClientError("reconnect to libvirt-dbus", null, new Error("the client is closed"));
    const old = this.#transport;
    this.#transport = null;
    old?.close();
    try {
      await this.#transportOrOpen();
    } catch (error) {
      throw wrapClientError("reconnect to libvirt-dbus", null, error);
    }
  }

  /** Closes the bus connection for good. */
  close(): void {
    this.#closed = true;
    this.#transport?.close();
    this.#transport = null;
    this.#eventListeners.clear();
    this.#disconnectListeners.clear();
  }

  /** Lifecycle events of every domain (the Connect DomainEvent signal). Returns an unsubscribe function. */
  onDomainEvent(listener: (event: DomainEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  /** Called when the bus connection is lost (not on close()). */
  onDisconnect(listener: (reason: string) => void): () => void {
    this.#disconnectListeners.add(listener);
    return () => this.#disconnectListeners.delete(listener);
  }

  /** Resolves with the first event matching `predicate` that arrives from now on. */
  waitForDomainEvent(predicate: (event: DomainEvent) => boolean, timeoutMs: number): Promise<DomainEvent> {
    return new Promise<DomainEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`Cannot observe the expected domain event: none arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = this.onDomainEvent((event) => {
        if (!predicate(event)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(event);
      });
    });
  }

  /** Whether libvirt-dbus owns its name on the bus. */
  async serviceAvailable(): Promise<boolean> {
    try {
      const [owned] = await this.#call("check for libvirt-dbus", null, {
        ...DBUS,
        member: "NameHasOwner",
        signature: "s",
        body: [LIBVIRT_BUS_NAME],
        timeoutMs: this.#callTimeoutMs,
      });
      return owned === true;
    } catch {
      return false;
    }
  }

  /**
   * A cheap round trip through libvirt-dbus to libvirtd (ListDomains). It also
   * makes libvirt-dbus (re)open its libvirt connection and register for
   * events, which it otherwise only does on the first call after a restart.
   */
  async ping(): Promise<void> {
    await this.#connectCall("reach libvirtd through libvirt-dbus", null, "ListDomains", "u", [0], false);
  }

  async listDomains(): Promise<DomainHandle[]> {
    const [paths] = await this.#connectCall("list domains", null, "ListDomains", "u", [0], false);
    if (!Array.isArray(paths)) throw wrapClientError("list domains", null, new Error("ListDomains returned no array"));
    return Promise.all(paths.map((p) => this.#handleFromPath(asString(p, "a domain path"), null, "list domains")));
  }

  async lookupByName(name: string): Promise<DomainHandle> {
    const [path] = await this.#connectCall("look up", name, "DomainLookupByName", "s", [name], false);
    return this.#handleFromPath(asString(path, "the domain path"), name, "look up");
  }

  async lookupByUuid(uuid: string): Promise<DomainHandle> {
    const [path] = await this.#connectCall("look up", uuid, "DomainLookupByUUID", "s", [uuid], false);
    return this.#handleFromPath(asString(path, "the domain path"), null, "look up");
  }

  /** Defines (or redefines) a persistent domain. */
  async defineXml(xml: string): Promise<DomainHandle> {
    const name = domainNameFromXml(xml) ?? "(unnamed)";
    const [path] = await this.#connectCall("define", name, "DomainDefineXML", "s", [xml], true);
    return this.#handleFromPath(asString(path, "the domain path"), name, "define");
  }

  /** Creates and starts a transient domain. */
  async createXml(xml: string, flags = 0): Promise<DomainHandle> {
    const name = domainNameFromXml(xml) ?? "(unnamed)";
    const [path] = await this.#connectCall("create", name, "DomainCreateXML", "su", [xml, flags], true);
    return this.#handleFromPath(asString(path, "the domain path"), name, "create");
  }

  /** Starts a defined domain (virDomainCreateWithFlags). */
  async start(domain: DomainHandle, flags = 0): Promise<void> {
    await this.#domainCall("start", domain, "Create", "u", [flags], true);
  }

  /** Asks the guest to shut down: the ACPI power button with `acpi: true`, else libvirt's default method. */
  async shutdown(domain: DomainHandle, options: { acpi?: boolean } = {}): Promise<void> {
    const flags = options.acpi === true ? SHUTDOWN_ACPI_POWER_BTN : SHUTDOWN_DEFAULT;
    await this.#domainCall("shut down", domain, "Shutdown", "u", [flags], true);
  }

  /** Stops the domain at once (SIGTERM, then SIGKILL to QEMU); `graceful` never SIGKILLs. */
  async destroy(domain: DomainHandle, options: { graceful?: boolean } = {}): Promise<void> {
    const flags = options.graceful === true ? DESTROY_GRACEFUL : DESTROY_DEFAULT;
    await this.#domainCall("destroy", domain, "Destroy", "u", [flags], true);
  }

  async undefine(domain: DomainHandle, flags = 0): Promise<void> {
    await this.#domainCall("undefine", domain, "Undefine", "u", [flags], true);
  }

  async suspend(domain: DomainHandle): Promise<void> {
    await this.#domainCall("suspend", domain, "Suspend", undefined, [], true);
  }

  async resume(domain: DomainHandle): Promise<void> {
    await this.#domainCall("resume", domain, "Resume", undefined, [], true);
  }

  async getState(domain: DomainHandle): Promise<DomainState> {
    const [pair] = await this.#domainCall("get the state of", domain, "GetState", "u", [0], false);
    if (!Array.isArray(pair) || typeof pair[0] !== "number" || typeof pair[1] !== "number") {
      throw wrapClientError("get the state of", domain.name, new Error(`GetState returned ${JSON.stringify(pair)}`));
    }
    return { state: domainStateName(pair[0]), reason: pair[1] };
  }

  async getXmlDesc(domain: DomainHandle, flags = 0): Promise<string> {
    const [xml] = await this.#domainCall("get the XML of", domain, "GetXMLDesc", "u", [flags], false);
    return asString(xml, "the domain XML");
  }

  /** virDomainListGetStats for one domain: `stats` is a mask of statsGroups (domain-stats.ts). */
  async getStats(domain: DomainHandle, stats: number, flags = 0): Promise<RawDomainStats> {
    const [answer] = await this.#domainCall("get the stats of", domain, "GetStats", "uu", [stats, flags], false);
    try {
      return unwrapStatsAnswer(answer);
    } catch (error) {
      throw wrapClientError("get the stats of", domain.name, error);
    }
  }

  // --- internals ---------------------------------------------------------

  async #transportOrOpen(): Promise<DbusTransport> {
    if (this.#closed) throw new Error("the client is closed");
    const current = this.#transport;
    if (current?.connected) return current;
    this.#opening ??= (async () => {
      try {
        const transport = await this.#open();
        if (this.#closed) {
          transport.close();
          throw new Error("the client is closed");
        }
        transport.onSignal((signal) => this.#onSignal(signal));
        transport.onClose((reason) => {
          if (this.#transport === transport) this.#transport = null;
          for (const listener of [...this.#disconnectListeners]) listener(reason);
        });
        try {
          await transport.call({ ...DBUS, member: "AddMatch", signature: "s", body: [EVENT_MATCH], timeoutMs: this.#callTimeoutMs });
        } catch (error) {
          transport.close();
          throw error;
        }
        this.#transport = transport;
        return transport;
      } finally {
        this.#opening = null;
      }
    })();
    return this.#opening;
  }

  async #call(verb: string, domain: string | null, call: DbusMethodCall): Promise<unknown[]> {
    let transport: DbusTransport;
    try {
      transport = await this.#transportOrOpen();
    } catch (error) {
      throw wrapClientError(verb, domain, new DbusCallError(`no connection to the private bus: ${error instanceof Error ? error.message : String(error)}`, null, { cause: error }));
    }
    try {
      return await transport.call(call);
    } catch (error) {
      throw wrapClientError(verb, domain, error);
    }
  }

  #connectCall(verb: string, domain: string | null, member: string, signature: string, body: unknown[], long: boolean): Promise<unknown[]> {
    return this.#call(verb, domain, {
      destination: LIBVIRT_BUS_NAME,
      path: QEMU_CONNECT_PATH,
      iface: CONNECT_INTERFACE,
      member,
      signature,
      body,
      timeoutMs: long ? this.#longCallTimeoutMs : this.#callTimeoutMs,
    });
  }

  #domainCall(verb: string, domain: DomainHandle, member: string, signature: string | undefined, body: unknown[], long: boolean): Promise<unknown[]> {
    return this.#call(verb, domain.name, {
      destination: LIBVIRT_BUS_NAME,
      path: domain.path,
      iface: DOMAIN_INTERFACE,
      member,
      ...(signature !== undefined ? { signature, body } : {}),
      timeoutMs: long ? this.#longCallTimeoutMs : this.#callTimeoutMs,
    });
  }

  async #property(path: string, name: string, verb: string, domain: string | null): Promise<unknown> {
    const [value] = await this.#call(verb, domain, {
      destination: LIBVIRT_BUS_NAME,
      path,
      iface: "org.freedesktop.DBus.Properties",
      member: "Get",
      signature: "ss",
      body: [DOMAIN_INTERFACE, name],
      timeoutMs: this.#callTimeoutMs,
    });
    return variantValue(value);
  }

  async #handleFromPath(path: string, knownName: string | null, verb: string): Promise<DomainHandle> {
    const [name, uuid] = await Promise.all([
      this.#property(path, "Name", verb, knownName),
      Promise.resolve(uuidFromDomainPath(path)).then((u) => u ?? this.#property(path, "UUID", verb, knownName)),
    ]);
    return { name: asString(name, "the domain name"), uuid: asString(uuid, "the domain UUID"), path };
  }

  #onSignal(signal: DbusSignal): void {
    if (signal.iface !== CONNECT_INTERFACE || signal.member !== "DomainEvent" || signal.path !== QEMU_CONNECT_PATH) return;
    const [path, typeCode, detailCode] = signal.body;
    if (typeof path !== "string" || typeof typeCode !== "number" || typeof detailCode !== "number") return;
    const type = domainEventType(typeCode);
    if (type === null) return;
    const event: DomainEvent = {
      type,
      detail: domainEventDetail(type, detailCode),
      typeCode,
      detailCode,
      path,
      uuid: uuidFromDomainPath(path),
    };
    for (const listener of [...this.#eventListeners]) {
      try {
        listener(event);
      } catch {
        // a listener's bug must not stop delivery to the others
      }
    }
  }
}
