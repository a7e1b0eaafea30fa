import { describe, expect, test } from "bun:test";
import type { DbusMethodCall, DbusSignal, DbusTransport } from "./bus.ts";
import { LibvirtClient, type DomainEvent } from "./client.ts";
import { DbusCallError, LibvirtClientError } from "./errors.ts";

const UUID = "7f4d06f4-713f-47f4-a636-95ec6479454c";
const PATH = "/org/libvirt/QEMU/domain/_7f4d06f4_713f_47f4_a636_95ec6479454c";
const XML = "<domain type='qemu'><name>vm-a</name><memory unit='MiB'>64</memory></domain>";

type Reply = unknown[] | Error;

class FakeTransport implements DbusTransport {
  connected = true;
  readonly calls: DbusMethodCall[] = [];
  readonly signals = new Set<(s: DbusSignal) => void>();
  readonly closeListeners = new Set<(reason: string) => void>();
  constructor(readonly answer: (call: DbusMethodCall) => Reply) {}
  async call(call: DbusMethodCall): Promise<unknown[]> {
    this.calls.push(call);
    const reply = this.answer(call);
    if (reply instanceof Error) throw reply;
    return reply;
  }
  onSignal(listener: (s: DbusSignal) => void): () => void {
    this.signals.add(listener);
    return () => this.signals.delete(listener);
  }
  onClose(listener: (reason: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }
  close(): void {
    this.connected = false;
  }
  emit(body: unknown[]): void {
    const s: DbusSignal = { sender: ":1.0", path: "/org/libvirt/QEMU", iface: "org.libvirt.Connect", member: "DomainEvent", body };
    for (const l of this.signals) l(s);
  }
  drop(reason: string): void {
    this.connected = false;
    for (const l of this.closeListeners) l(reason);
  }
}

function libvirtAnswers(call: DbusMethodCall): Reply {
  switch (call.member) {
    case "AddMatch":
      return [];
    case "NameHasOwner":
      return [true];
    case "ListDomains":
      return [[PATH]];
    case "DomainDefineXML":
    case "DomainCreateXML":
    case "DomainLookupByName":
      return [PATH];
    case "Get":
      return [{ signature: "s", value: call.body?.[1] === "Name" ? "vm-a" : UUID }];
    case "GetState":
      return [[5, 1]];
    case "GetXMLDesc":
      return [XML];
    default:
      return [];
  }
}

function fakeClient(answer: (call: DbusMethodCall) => Reply = libvirtAnswers): { client: LibvirtClient; transports: FakeTransport[] } {
  const transports: FakeTransport[] = [];
  const client = new LibvirtClient(
    async () => {
      const t = new FakeTransport(answer);
      transports.push(t);
      return t;
    },
    { callTimeoutMs: 1_000, longCallTimeoutMs: 9_000 },
  );
  return { client, transports };
}

describe("LibvirtClient", () => {
  test("defineXml calls DomainDefineXML(s) with the long timeout and returns a handle", async () => {
    const { client, transports } = fakeClient();
    const dom = await client.defineXml(XML);
    expect(dom).toEqual({ name: "vm-a", uuid: UUID, path: PATH });
    const t = transports[0]!;
    expect(t.calls[0]).toMatchObject({ member: "AddMatch", destination: "org.freedesktop.DBus" });
    expect(String(t.calls[0]!.body?.[0])).toContain("member='DomainEvent'");
    const define = t.calls.find((c) => c.member === "DomainDefineXML")!;
    expect(define).toMatchObject({ destination: "org.libvirt", path: "/org/libvirt/QEMU", iface: "org.libvirt.Connect", signature: "s", body: [XML], timeoutMs: 9_000 });
  });

  test("createXml passes flags with signature su", async () => {
    const { client, transports } = fakeClient();
    await client.createXml(XML, 0);
    const create = transports[0]!.calls.find((c) => c.member === "DomainCreateXML")!;
    expect(create.signature).toBe("su");
    expect(create.body).toEqual([XML, 0]);
  });

  test("domain methods go to the domain object with the right flags", async () => {
    const { client, transports } = fakeClient();
    const dom = { name: "vm-a", uuid: UUID, path: PATH };
    await client.start(dom);
    await client.shutdown(dom, { acpi: true });
    await client.shutdown(dom);
    await client.destroy(dom);
    await client.undefine(dom);
    await client.suspend(dom);
    const calls = transports[0]!.calls.filter((c) => c.path === PATH);
    expect(calls.map((c) => [c.iface, c.member, c.signature, c.body])).toEqual([
      ["org.libvirt.Domain", "Create", "u", [0]],
      ["org.libvirt.Domain", "Shutdown", "u", [1]],
      ["org.libvirt.Domain", "Shutdown", "u", [0]],
      ["org.libvirt.Domain", "Destroy", "u", [0]],
      ["org.libvirt.Domain", "Undefine", "u", [0]],
      ["org.libvirt.Domain", "Suspend", undefined, undefined],
    ]);
  });

  test("getState decodes (ii); getXmlDesc returns the string", async () => {
    const { client } = fakeClient();
    const dom = { name: "vm-a", uuid: UUID, path: PATH };
    expect(await client.getState(dom)).toEqual({ state: "shutoff", reason: 1 });
    expect(await client.getXmlDesc(dom)).toBe(XML);
  });

  test("listDomains resolves names", async () => {
    const { client } = fakeClient();
    expect(await client.listDomains()).toEqual([{ name: "vm-a", uuid: UUID, path: PATH }]);
  });

  test("libvirt errors are wrapped as Cannot <verb> domain \"<name>\"", async () => {
    const { client } = fakeClient((call) =>
      call.member === "Create" ? new DbusCallError("Requested operation is not valid: domain is already running", "org.libvirt.Error") : libvirtAnswers(call),
    );
    const error = await client.start({ name: "vm-a", uuid: UUID, path: PATH }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibvirtClientError);
    const e = error as LibvirtClientError;
    expect(e.message).toBe('Cannot start domain "vm-a": Requested operation is not valid: domain is already running');
    expect(e.dbusName).toBe("org.libvirt.Error");
    expect(e.domain).toBe("vm-a");
    expect(e.cause).toBeInstanceOf(DbusCallError);
  });

  test("defineXml names the domain from the XML in errors", async () => {
    const { client } = fakeClient((call) => (call.member === "DomainDefineXML" ? new DbusCallError("XML error: bad", "org.libvirt.Error") : libvirtAnswers(call)));
    await expect(client.defineXml(XML)).rejects.toThrow('Cannot define domain "vm-a": XML error: bad');
  });

  test("DomainEvent signals reach listeners decoded", async () => {
    const { client, transports } = fakeClient();
    await client.ping();
    const seen: DomainEvent[] = [];
    client.onDomainEvent((e) => seen.push(e));
    const waited = client.waitForDomainEvent((e) => e.type === "Stopped", 1_000);
    transports[0]!.emit([PATH, 2, 0]);
    transports[0]!.emit([PATH, 5, 1]);
    transports[0]!.emit([PATH, 99, 0]); // unknown type: ignored
    expect(seen.map((e) => `${e.type}/${e.detail}`)).toEqual(["Started/Booted", "Stopped/Destroyed"]);
    expect((await waited).uuid).toBe(UUID);
  });

  test("a lost connection is reported, and the next call reconnects", async () => {
    const { client, transports } = fakeClient();
    await client.ping();
    const reasons: string[] = [];
    client.onDisconnect((r) => reasons.push(r));
    transports[0]!.drop("the bus closed the connection");
    expect(reasons).toEqual(["the bus closed the connection"]);
    expect(client.connected).toBe(false);
    await client.ping();
    expect(transports.length).toBe(2);
    expect(transports[1]!.calls[0]!.member).toBe("AddMatch");
    const seen: string[] = [];
    client.onDomainEvent((e) => seen.push(e.type));
    transports[1]!.emit([PATH, 0, 0]);
    expect(seen).toEqual(["Defined"]);
  });

  test("calls fail with a wrapped error when the bus cannot be reached", async () => {
    const client = new LibvirtClient(async () => {
      throw new Error("connect ECONNREFUSED");
    });
    await expect(client.listDomains()).rejects.toThrow("Cannot list domains: no connection to the private bus: connect ECONNREFUSED");
    expect(await client.serviceAvailable()).toBe(false);
  });

  test("close() refuses further calls", async () => {
    const { client } = fakeClient();
    client.close();
    await expect(client.ping()).rejects.toThrow("the client is closed");
  });
});
