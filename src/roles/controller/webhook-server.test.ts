import { expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import tls from "node:tls";
import { makeWebhookCa } from "./webhook-certs.ts";
import { serveWebhooks, webhookConfigurations } from "./webhook-server.ts";

type Hook = { name: string; matchConditions: { name: string; expression: string }[] };
const hooks = (c: object): Hook[] => (c as { webhooks: Hook[] }).webhooks;

test("the controller's own VMI creates skip the VMI webhooks; VM webhooks and other users' creates do not", () => {
  const { validating, mutating } = webhookConfigurations({ url: "https://h:1" }, "PEM", "system:serviceaccount:bunvirt:bunvirt-controller");
  for (const h of [...hooks(validating), ...hooks(mutating)]) {
    const own = h.matchConditions.find((m) => m.name === "not-the-controllers-own-create");
    if (h.name.startsWith("virtualmachineinstances.")) {
      expect(own?.expression).toContain(`request.userInfo.username == "system:serviceaccount:bunvirt:bunvirt-controller"`);
      expect(own?.expression).toContain("r.kind == 'VirtualMachine'");
    } else {
      expect(own).toBeUndefined();
    }
  }
  // Its user unknown: every create goes through.
  const plain = webhookConfigurations({ url: "https://h:1" }, "PEM");
  expect([...hooks(plain.validating), ...hooks(plain.mutating)].flatMap((h) => h.matchConditions.map((m) => m.name))).not.toContain("not-the-controllers-own-create");
});

test("the serving certificate is renewed on its timer and on demand: new handshakes get the new one, signed by the same CA, on the same port", async () => {
  const ca = await makeWebhookCa();
  const renewed: string[] = [];
  const server = await serveWebhooks("127.0.0.1:0", ["127.0.0.1"], ca, undefined, {}, { everyMs: 300, onRenew: (r) => renewed.push(r instanceof Error ? r.message : new X509Certificate(r.certPem).serialNumber) });
  const port = Number(server.address.split(":")[1]);
  const peer = (): Promise<string> => new Promise((resolve, reject) => {
    const c = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem }, () => {
      resolve(c.getPeerCertificate().serialNumber.toUpperCase());
      c.end();
    });
    c.on("error", reject);
  });
  try {
    const first = new X509Certificate(server.certs.certPem).serialNumber;
    expect(await peer()).toBe(first);
    await server.renew();
    const second = new X509Certificate(server.certs.certPem).serialNumber;
    expect(second).not.toBe(first);
    expect(new X509Certificate(server.certs.certPem).verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(server.certs.caPem).toBe(ca.certPem);
    for (let i = 0; i < 5; i++) expect(await peer()).toBe(second);
    // A request is answered over the new certificate (a path the webhooks do not serve: 404).
    expect((await fetch(`https://127.0.0.1:${port}/none`, { tls: { ca: ca.certPem } })).status).toBe(404);
    const deadline = Date.now() + 10_000;
    while (renewed.length < 1 && Date.now() < deadline) await Bun.sleep(50);
    expect(renewed.length).toBeGreaterThan(0);
    expect(renewed[0]).toMatch(/^[0-9A-F]+$/);
    expect(await peer()).toBe(new X509Certificate(server.certs.certPem).serialNumber);
  } finally {
    await server.stop();
  }
  await expect(peer()).rejects.toThrow();
});
