/**
 * The console server over real TLS on loopback, with a real unix socket
 * standing in for QEMU's serial socket (an echo server that greets; the
 * real launcher is in tests/host/console-relay.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeWebhookCerts } from "../controller/webhook-certs.ts";
import { makeLogger } from "../../log/logger.ts";
import { dialTls, drain, openConsole, waitFor } from "../../../tests/lib/console-client.ts";
import { makeTestCa, makeTestClientCert, type TestCert } from "../../../tests/lib/test-pki.ts";
import { certificateSha256, consoleMaxLineBytes, ConsoleServer, type ConsoleLookup, type ConsoleRequest } from "./console-server.ts";
import { connectConsoleSocket } from "./console-socket.ts";

const dir = mkdtempSync(join(tmpdir(), "bunvirt-console-"));
const serialPath = join(dir, "serial0");
const log = makeLogger({ role: "handler", format: "text", level: "error", write: () => {} });
const uid = "0a0b0c0d-1111-2222-3333-444455556666";
const request: ConsoleRequest = { namespace: "ns1", name: "vm1", uid };

let serial: Server;
const serialClients = new Set<Socket>();
let server: ConsoleServer;
let port = 0;
let sha256 = "";
let good: TestCert;
let wrongCn: TestCert;
let otherCa: TestCert;
const ca = makeTestCa();
/** Clients cut for their certificate, as the server reports them (the handler then reads the CA again). */
let refusals = 0;

const lookup = (r: ConsoleRequest): ConsoleLookup => {
  if (r.name === "missing") return { ok: false, code: 404, message: `VMI "${r.namespace}/${r.name}" is not on this node` };
  if (r.name === "broken") return { ok: true, uid: "broken", connect: () => connectConsoleSocket(join(dir, "nothing-here")) };
  return { ok: true, uid: r.uid, connect: () => connectConsoleSocket(serialPath) };
};

beforeAll(async () => {
  good = makeTestClientCert(ca, "bunvirt-controller");
  wrongCn = makeTestClientCert(ca, "someone-else");
  otherCa = makeTestClientCert(makeTestCa("other-ca"), "bunvirt-controller");
  serial = createServer((s) => {
    serialClients.add(s);
    s.on("close", () => serialClients.delete(s));
    s.write("login: ");
    s.on("data", (d) => s.write(`echo:${d.toString()}`));
  });
  await new Promise<void>((r) => serial.listen(serialPath, r));
  const certs = await makeWebhookCerts({ dnsNames: ["bunvirt-handler"], ips: ["127.0.0.1"] });
  sha256 = certificateSha256(new Uint8Array(Buffer.from(certs.certPem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64")));
  server = new ConsoleServer({ host: "127.0.0.1", port: 0, certPem: certs.certPem, keyPem: certs.keyPem, clientCaPem: ca.certPem, lookup, log, timeoutMs: 1000, onRefused: () => void refusals++ });
  port = await server.listen();
});

afterAll(async () => {
  await server.stop();
  serial.close();
  rmSync(dir, { recursive: true, force: true });
});

const dial = (cert?: TestCert) => ({ host: "127.0.0.1", port, sha256, ...(cert !== undefined ? { cert } : {}) });

describe("console server", () => {
  test("bytes both ways", async () => {
    const c = await openConsole(dial(good), request);
    expect(c.reply).toEqual({ ok: true });
    const seen = { text: c.rest.toString() };
    await waitFor(c.socket, "login: ", 3000, seen);
    c.socket.write("hello\n");
    await waitFor(c.socket, "echo:hello\n", 3000, seen);
    c.socket.destroy();
  });

  test("bytes written in the same packet as the request line reach the guest", async () => {
    await Bun.sleep(50);
    const s = await dialTls(dial(good));
    s.write(`${JSON.stringify(request)}\nearly\n`);
    const text = await waitFor(s, "echo:early\n", 3000);
    expect(text.startsWith('{"ok":true}\n')).toBe(true);
    s.destroy();
  });

  test("a second console for the same VMI takes over: the first is closed, the second relays", async () => {
    const first = await openConsole(dial(good), request);
    expect(first.reply).toEqual({ ok: true });
    const second = await openConsole(dial(good), request);
    expect(second.reply).toEqual({ ok: true });
    // The server closed the first (it may be gone already when the second's reply is read).
    if (!first.socket.destroyed) await drain(first.socket, 3000);
    expect(first.socket.readableEnded).toBe(true);
    const seen = { text: second.rest.toString() };
    second.socket.write("after\n");
    await waitFor(second.socket, "echo:after\n", 3000, seen);
    second.socket.destroy();
  });

  test("the lookup's refusal is answered and the connection closed", async () => {
    const c = await openConsole(dial(good), { ...request, name: "missing" });
    expect(c.reply).toEqual({ ok: false, code: 404, message: 'VMI "ns1/missing" is not on this node' });
    expect((await drain(c.socket)).bytes.length).toBe(0);
  });

  test("a serial socket that cannot be reached is a 500 without the node's paths", async () => {
    const c = await openConsole(dial(good), { ...request, name: "broken" });
    expect(c.reply).toEqual({ ok: false, code: 500, message: 'Cannot reach the serial console of VMI "ns1/broken"' });
    const again = await openConsole(dial(good), { ...request, name: "broken" });
    expect(again.reply.ok).toBe(false);
    if (!again.reply.ok) expect(again.reply.code).toBe(500);
  });

  test("no client certificate: the handshake fails, nothing is read", async () => {
    const result = await dialTls(dial()).then(async (s) => {
      s.write('{"namespace":"ns1","name":"vm1","uid":"1"}\n');
      return drain(s);
    }, (e: Error) => ({ bytes: Buffer.alloc(0), error: e.message }));
    expect(result.bytes.length).toBe(0);
    expect(result.error).not.toBeNull();
  });

  test("a certificate from another CA: nothing, and the refusal is reported", async () => {
    const before = refusals;
    const result = await dialTls(dial(otherCa)).then(async (s) => {
      s.write('{"namespace":"ns1","name":"vm1","uid":"1"}\n');
      return drain(s);
    }, (e: Error) => ({ bytes: Buffer.alloc(0), error: e.message }));
    expect(result.bytes.length).toBe(0);
    expect(refusals).toBeGreaterThan(before);
  });

  test("the right CA but another name: cut with zero bytes", async () => {
    const s = await dialTls(dial(wrongCn));
    s.write(`${JSON.stringify(request)}\n`);
    expect((await drain(s)).bytes.length).toBe(0);
    expect(serialClients.size).toBe(0);
  });

  test("a request line over 4 KiB: cut with zero bytes", async () => {
    const s = await dialTls(dial(good));
    s.write(Buffer.alloc(consoleMaxLineBytes + 10, 0x20));
    expect((await drain(s)).bytes.length).toBe(0);
  });

  test("a malformed request: cut with zero bytes", async () => {
    const s = await dialTls(dial(good));
    s.write('{"namespace":"../x","name":"vm1","uid":"1"}\n');
    expect((await drain(s)).bytes.length).toBe(0);
  });

  test("a silent client is cut after the timeout", async () => {
    const s = await dialTls(dial(good));
    const t0 = Date.now();
    expect((await drain(s, 8000)).bytes.length).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test("a TCP client that never starts TLS is closed after the handshake timeout", async () => {
    const t0 = Date.now();
    const raw = connect(port, "127.0.0.1");
    raw.on("error", () => undefined);
    const bytes: Buffer[] = [];
    raw.on("data", (d: Buffer) => bytes.push(d));
    await new Promise<void>((r) => raw.once("close", () => r()));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(Buffer.concat(bytes).length).toBe(0);
  });

  test("without the controller's CA nobody passes; with it again, the controller does", async () => {
    server.setClientCa(undefined);
    const refused = await dialTls(dial(good)).then((s) => drain(s), (e: Error) => ({ bytes: Buffer.alloc(0), error: e.message }));
    expect(refused.bytes.length).toBe(0);
    server.setClientCa(ca.certPem);
    const c = await openConsole(dial(good), request);
    expect(c.reply).toEqual({ ok: true });
    c.socket.destroy();
  });
});
