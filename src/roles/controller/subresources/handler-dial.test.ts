/**
 * The dialer against a stand-in for the handler's console server (real
 * node:tls with B's protocol; the real server is proven in
 * tests/host/console-relay.test.ts): the controller's client certificate is
 * accepted by a server trusting only the shared CA with CN
 * bunvirt-controller; the pinned digest is checked; the handler's refusals
 * become Status errors.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import { certificateSha256, consoleClientCommonName, encodeConsoleLine, parseConsoleRequest, readConsoleLine } from "../../handler/console-protocol.ts";
import type { Vmi } from "../model.ts";
import { makeClientCert, makeServingCert, makeWebhookCa, type WebhookCerts } from "../webhook-certs.ts";
import { dialHandler, dialHandlerOnceMore, HandlerCut } from "./handler-dial.ts";
import { StatusError } from "./status.ts";

let client: WebhookCerts;
let handlerCert: WebhookCerts;
let server: tls.Server;
let port = 0;
const seen: string[] = [];
/** Connections the stand-in cuts before answering, as a handler does that has not read the CA yet. */
let cutNext = 0;

const vmi = (name: string): Vmi => ({
  apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", metadata: { name, namespace: "ns", uid: "0f0e-11" }, spec: { domain: { devices: {} } } as Vmi["spec"],
  status: { phase: "Running", nodeName: "node1" },
});

beforeAll(async () => {
  const ca = await makeWebhookCa();
  client = await makeClientCert(ca, { commonName: consoleClientCommonName });
  handlerCert = await makeServingCert(await makeWebhookCa(), { dnsNames: [], ips: ["127.0.0.1"] });
  server = tls.createServer({ cert: handlerCert.certPem, key: handlerCert.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, async (s) => {
    const cn = s.getPeerCertificate().subject?.CN;
    if (cn !== consoleClientCommonName) return s.destroy();
    if (cutNext > 0) {
      cutNext--;
      return s.destroy();
    }
    const { line } = await readConsoleLine(s);
    const req = parseConsoleRequest(line);
    seen.push(line);
    if (req.name === "missing") return s.end(encodeConsoleLine({ ok: false, code: 404, message: "no such VMI on this node" }));
    if (req.name === "busy") return s.end(encodeConsoleLine({ ok: false, code: 409, message: "Console connection already in use" }));
    s.write(Buffer.concat([encodeConsoleLine({ ok: true }), Buffer.from("login: ")]));
    s.on("data", (d) => s.write(d.toString().toUpperCase()));
    s.resume();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => {
  server?.close();
});

const sha = (): string => certificateSha256(new Uint8Array(new X509Certificate(handlerCert.certPem).raw));

test("the controller's client certificate is accepted; the request line names the VMI; serial bytes flow both ways", async () => {
  const { socket, rest } = await dialHandler({ host: "127.0.0.1", port, sha256: sha() }, client, vmi("vm1"));
  expect(JSON.parse(seen.at(-1)!)).toEqual({ namespace: "ns", name: "vm1", uid: "0f0e-11" });
  let got = rest.toString();
  socket.on("data", (d: Buffer) => (got += d.toString()));
  socket.resume();
  socket.write("root\n");
  for (let i = 0; i < 100 && !got.includes("ROOT"); i++) await Bun.sleep(20);
  expect(got).toBe("login: ROOT\n");
  socket.destroy();
});

test("a handler whose certificate is not the pinned one is refused before any request line", async () => {
  const before = seen.length;
  const e = await dialHandler({ host: "127.0.0.1", port, sha256: "0".repeat(64) }, client, vmi("vm1")).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(StatusError);
  expect((e as StatusError).body.code).toBe(500);
  expect((e as StatusError).message).toContain("is not the one its Node publishes");
  expect(seen.length).toBe(before);
});

test("the handler's 404 and 409 become Status errors; a client certificate from another CA gets nothing", async () => {
  const missing = (await dialHandler({ host: "127.0.0.1", port, sha256: sha() }, client, vmi("missing")).catch((x: unknown) => x)) as StatusError;
  expect(missing.body).toMatchObject({ code: 404, message: 'virtualmachineinstance.kubevirt.io "missing" not found' });
  const busy = (await dialHandler({ host: "127.0.0.1", port, sha256: sha() }, client, vmi("busy")).catch((x: unknown) => x)) as StatusError;
  expect(busy.body).toMatchObject({ code: 409, message: 'Operation cannot be fulfilled on virtualmachineinstance.kubevirt.io "busy": Console connection already in use' });
  const stranger = await makeClientCert(await makeWebhookCa(), { commonName: consoleClientCommonName });
  const refused = (await dialHandler({ host: "127.0.0.1", port, sha256: sha() }, stranger, vmi("vm1")).catch((x: unknown) => x)) as StatusError;
  expect(refused.body.code).toBe(500);
});

test("a handler that cuts before answering is dialled once more after a moment; a second cut is the user's error", async () => {
  const endpoint = async () => ({ host: "127.0.0.1", port, sha256: sha() });
  cutNext = 1;
  const t0 = performance.now();
  const { socket } = await dialHandlerOnceMore(endpoint, client, vmi("vm1"), 300);
  expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  expect(cutNext).toBe(0);
  socket.destroy();
  cutNext = 2;
  const e = await dialHandlerOnceMore(endpoint, client, vmi("vm1"), 50).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(HandlerCut);
  expect((e as StatusError).body.code).toBe(500);
  expect(cutNext).toBe(0);
  // A refusal the handler words (404) is not tried again.
  const before = seen.length;
  const missing = await dialHandlerOnceMore(endpoint, client, vmi("missing"), 50).catch((x: unknown) => x);
  expect((missing as StatusError).body.code).toBe(404);
  expect(seen.length).toBe(before + 1);
});
