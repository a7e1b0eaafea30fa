import { expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { makeClientCert, makeServingCert, makeWebhookCa, makeWebhookCerts } from "./webhook-certs.ts";

test("the CA signs the serving certificate, which names the given addresses and serves TLS a client trusting only the CA accepts", async () => {
  const certs = await makeWebhookCerts({ dnsNames: ["bunvirt-controller.bunvirt.svc"], ips: ["127.0.0.1"] });
  const ca = new X509Certificate(certs.caPem);
  const leaf = new X509Certificate(certs.certPem);
  expect(ca.ca).toBe(true);
  expect(leaf.ca).toBe(false);
  expect(ca.verify(ca.publicKey)).toBe(true);
  expect(leaf.verify(ca.publicKey)).toBe(true);
  expect(leaf.checkIssued(ca)).toBe(true);
  expect(leaf.subjectAltName).toBe("DNS:bunvirt-controller.bunvirt.svc, IP Address:127.0.0.1");
  expect(leaf.checkIP("127.0.0.1")).toBe("127.0.0.1");
  expect(leaf.checkHost("bunvirt-controller.bunvirt.svc")).toBe("bunvirt-controller.bunvirt.svc");
  expect(Date.parse(leaf.validTo) - Date.now()).toBeGreaterThan(300 * 86_400_000);

  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: certs.certPem, key: certs.keyPem }, fetch: () => new Response("ok") });
  try {
    const trusted = await fetch(`https://127.0.0.1:${server.port}/`, { tls: { ca: certs.caPem } });
    expect(await trusted.text()).toBe("ok");
    const other = await makeWebhookCerts({ dnsNames: [], ips: ["127.0.0.1"] });
    expect(fetch(`https://127.0.0.1:${server.port}/`, { tls: { ca: other.caPem } })).rejects.toThrow();
  } finally {
    await server.stop(true);
  }
});

test("a serving certificate from a CA made earlier (the replicas' shared one) is signed by that CA; a key that is no PEM is refused", async () => {
  const ca = await makeWebhookCa();
  const [a, b] = await Promise.all([makeServingCert(ca, { dnsNames: [], ips: ["127.0.0.1"] }), makeServingCert(ca, { dnsNames: ["x.svc"], ips: [] })]);
  const caCert = new X509Certificate(ca.certPem);
  expect(Date.parse(caCert.validTo) - Date.now()).toBeGreaterThan(9 * 365 * 86_400_000);
  for (const c of [a, b]) {
    expect(c.caPem).toBe(ca.certPem);
    expect(new X509Certificate(c.certPem).verify(caCert.publicKey)).toBe(true);
  }
  expect(a.keyPem).not.toBe(b.keyPem);
  await expect(makeServingCert({ certPem: ca.certPem, keyPem: "nothing" }, { dnsNames: [], ips: ["127.0.0.1"] })).rejects.toThrow("Cannot read the webhook CA: no PEM PRIVATE KEY block");
});

test("a client certificate: the given CN, clientAuth only, no names, signed by the CA", async () => {
  const ca = await makeWebhookCa();
  const c = await makeClientCert(ca, { commonName: "bunvirt-controller" });
  const leaf = new X509Certificate(c.certPem);
  expect(leaf.subject).toBe("CN=bunvirt-controller");
  expect(leaf.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
  expect(leaf.subjectAltName).toBeUndefined();
  expect(leaf.ca).toBe(false);
  expect(leaf.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
});
