import { afterAll, beforeAll, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import { makeClientCert, makeServingCert, makeWebhookCa, type WebhookCerts } from "../webhook-certs.ts";
import { type FrontDoor, openFrontDoor } from "./front-door.ts";
import type { RequestHeaderConfig } from "./request-header.ts";
import { rawTlsRequest } from "../../../../tests/lib/raw-tls.ts";

let door: FrontDoor;
let serving: WebhookCerts;
let proxy: WebhookCerts;
let wrongName: WebhookCerts;
let otherCa: WebhookCerts;
let config: RequestHeaderConfig;
let servingCaKey: string;
/** Stands in for the handler's console: echoes what it gets, upper-cased. */
const echo = net.createServer((s) => s.on("data", (d) => s.write(d.toString().toUpperCase())));

beforeAll(async () => {
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  const ca = await makeWebhookCa();
  servingCaKey = ca.keyPem;
  const clientCa = await makeWebhookCa();
  serving = await makeServingCert(ca, { dnsNames: ["bunvirt-controller.bunvirt.svc"], ips: ["127.0.0.1"] });
  proxy = await makeClientCert(clientCa, { commonName: "front-proxy-client" });
  wrongName = await makeClientCert(clientCa, { commonName: "someone" });
  otherCa = await makeClientCert(await makeWebhookCa(), { commonName: "front-proxy-client" });
  config = { caPem: clientCa.certPem, allowedNames: ["front-proxy-client"], usernameHeaders: ["X-Remote-User"], groupHeaders: ["X-Remote-Group"], extraPrefixes: ["x-remote-extra-"], uidHeaders: [] };
  door = await openFrontDoor({
    addr: "127.0.0.1:0",
    certPem: serving.certPem,
    keyPem: serving.keyPem,
    log: { warn: () => undefined },
    fetch: async (req, server) => {
      if (req.headers.get("upgrade") === "websocket") {
        const socket = net.connect((echo.address() as net.AddressInfo).port, "127.0.0.1") as tls.TLSSocket;
        await new Promise((r) => socket.once("connect", r));
        socket.pause();
        server.upgrade(req, { data: { kind: "console", socket, rest: Buffer.from("hello ") } });
        return undefined;
      }
      return new Response(`user=${req.headers.get("x-remote-user")}`);
    },
  });
});
afterAll(async () => {
  await door?.stop();
  echo.close();
});

/** Raw bytes a TLS client with `cert` gets for one HTTP request (empty: nothing). */
async function rawRequest(cert?: WebhookCerts): Promise<string> {
  const port = Number(door.address.split(":")[1]);
  const creds = cert !== undefined ? { cert: cert.certPem, key: cert.keyPem } : {};
  const request = "GET / HTTP/1.1\r\nHost: x\r\nX-Remote-User: alice\r\nConnection: close\r\n\r\n";
  return (await rawTlsRequest({ host: "127.0.0.1", port, ca: serving.caPem, servername: "bunvirt-controller.bunvirt.svc", ...creds }, request, 3000)).text;
}

test("before the front-proxy settings are known, nothing is served", async () => {
  expect(await rawRequest(proxy)).toBe("");
});

test("the API server's front-proxy certificate is served; no certificate, another CN or another CA get no byte", async () => {
  door.setConfig(config);
  expect(await rawRequest(proxy)).toContain("user=alice");
  expect(await rawRequest()).toBe("");
  expect(await rawRequest(wrongName)).toBe("");
  expect(await rawRequest(otherCa)).toBe("");
  // An empty allowed-names list: any certificate the CA signed.
  door.setConfig({ ...config, allowedNames: [] });
  expect(await rawRequest(wrongName)).toContain("user=alice");
  expect(await rawRequest(otherCa)).toBe("");
  door.setConfig(config);
});

test("a renewed serving certificate: new handshakes get it, and the front-proxy check still holds", async () => {
  door.setConfig(config);
  const port = Number(door.address.split(":")[1]);
  const serial = (): Promise<string> => new Promise((resolve, reject) => {
    const c = tls.connect({ host: "127.0.0.1", port, ca: serving.caPem, servername: "bunvirt-controller.bunvirt.svc", cert: proxy.certPem, key: proxy.keyPem }, () => {
      resolve(c.getPeerCertificate().serialNumber);
      c.end();
    });
    c.on("error", reject);
  });
  const before = await serial();
  const renewed = await makeServingCert({ certPem: serving.caPem, keyPem: servingCaKey }, { dnsNames: ["bunvirt-controller.bunvirt.svc"], ips: ["127.0.0.1"] });
  door.setCertificate(renewed.certPem, renewed.keyPem);
  const after = await serial();
  expect(after).not.toBe(before);
  expect(after.toUpperCase()).toBe(new X509Certificate(renewed.certPem).serialNumber.toUpperCase());
  expect(await rawRequest(proxy)).toContain("user=alice");
  expect(await rawRequest(wrongName)).toBe("");
});

test("a WebSocket passes through the front door (Bun's client with the front-proxy certificate): bytes both ways", async () => {
  door.setConfig(config);
  const ws = new WebSocket(`wss://127.0.0.1:${door.address.split(":")[1]}/ws`, { tls: { ca: serving.caPem, cert: proxy.certPem, key: proxy.keyPem, serverName: "bunvirt-controller.bunvirt.svc" } } as unknown as string[]);
  const opened = await new Promise<boolean>((resolve) => {
    ws.onopen = () => resolve(true);
    ws.onerror = () => resolve(false);
  });
  expect(opened).toBe(true);
  ws.binaryType = "arraybuffer";
  let got = "";
  const done = new Promise<void>((resolve) => {
    ws.onmessage = (e) => {
      got += Buffer.from(e.data as ArrayBuffer).toString();
      if (got.includes("WORLD")) resolve();
    };
  });
  ws.send(new TextEncoder().encode("world"));
  await done;
  expect(got).toBe("hello WORLD");
  ws.close();
});
