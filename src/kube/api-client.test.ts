import { expect, test } from "bun:test";
import { KubeConfig, VersionApi } from "@kubernetes/client-node";
import { version } from "../version.ts";
import { fetchTls, kubeFetch, makeApiClient } from "./api-client.ts";

const b64 = (s: string): string => Buffer.from(s).toString("base64");

function config(cluster: string, user: string, server = "https://127.0.0.1:1"): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}", ${cluster}}}]
users: [{name: u, user: {${user}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`);
  return kc;
}

test("the cluster's CA and the user's client certificate become fetch's tls option", () => {
  const kc = config(`certificate-authority-data: ${b64("CA")}, tls-server-name: kubernetes`, `client-certificate-data: ${b64("CERT")}, client-key-data: ${b64("KEY")}`);
  const tls = fetchTls(kc);
  expect(tls.ca?.toString()).toBe("CA");
  expect(tls.cert?.toString()).toBe("CERT");
  expect(tls.key?.toString()).toBe("KEY");
  expect(tls.serverName).toBe("kubernetes");
  expect(tls.rejectUnauthorized).toBeUndefined();
});

test("insecure-skip-tls-verify turns verification off; a token user has no client certificate", () => {
  expect(fetchTls(config("insecure-skip-tls-verify: true", "token: t"))).toEqual({ rejectUnauthorized: false });
});

test("a client's requests reach the kubeconfig's server with the user's credentials", async () => {
  const seen: { path: string; auth: string | null; agent: string | null }[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      seen.push({ path: new URL(req.url).pathname, auth: req.headers.get("authorization"), agent: req.headers.get("user-agent") });
      return Response.json({ major: "1", minor: "34", gitVersion: "v1.34.4" });
    },
  });
  try {
    const kc = config("insecure-skip-tls-verify: true", "token: secret", `http://127.0.0.1:${server.port}`);
    expect((await makeApiClient(kc, VersionApi).getCode()).gitVersion).toBe("v1.34.4");
    expect(seen).toEqual([{ path: "/version", auth: "Bearer secret", agent: `bunvirt/${version}` }]);
  } finally {
    await server.stop(true);
  }
});

test("kubeFetch sends a raw request with the user's credentials, keeping the caller's headers", async () => {
  const seen: { url: string; auth: string | null; accept: string | null }[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      seen.push({ url: req.url, auth: req.headers.get("authorization"), accept: req.headers.get("accept") });
      return new Response("{}");
    },
  });
  try {
    const kc = config("insecure-skip-tls-verify: true", "token: secret", `http://127.0.0.1:${server.port}/`);
    const resp = await kubeFetch(kc, "/apis/kubevirt.io/v1/virtualmachines?watch=1", { headers: { Accept: "application/json" } });
    expect(resp.status).toBe(200);
    expect(seen).toEqual([{ url: `http://127.0.0.1:${server.port}/apis/kubevirt.io/v1/virtualmachines?watch=1`, auth: "Bearer secret", accept: "application/json" }]);
  } finally {
    await server.stop(true);
  }
});

test("in a pod: the service account's CA is trusted and its projected token is re-read after it rotates", async () => {
  const { makeServingCert, makeWebhookCa } = await import("../roles/controller/webhook-certs.ts");
  const { mkdirSync, mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { setSystemTime } = await import("bun:test");
  const ca = await makeWebhookCa();
  const serving = await makeServingCert(ca, { dnsNames: [], ips: ["127.0.0.1"] });
  const seen: string[] = [];
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: serving.certPem, key: serving.keyPem }, fetch: (req) => {
    seen.push(req.headers.get("authorization") ?? "");
    return Response.json({});
  } });
  const root = mkdtempSync(`${tmpdir()}/in-cluster-`);
  const sa = `${root}/var/run/secrets/kubernetes.io/serviceaccount`;
  mkdirSync(sa, { recursive: true });
  writeFileSync(`${sa}/ca.crt`, ca.certPem);
  writeFileSync(`${sa}/namespace`, "bunvirt");
  writeFileSync(`${sa}/token`, "first");
  const env = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  process.env.KUBERNETES_SERVICE_HOST = "127.0.0.1";
  process.env.KUBERNETES_SERVICE_PORT = String(server.port);
  try {
    const kc = new KubeConfig();
    kc.loadFromCluster(root);
    expect((await kubeFetch(kc, "/version")).status).toBe(200);
    writeFileSync(`${sa}/token`, "second");
    // The kubelet rotates the token long before it expires; the client re-reads the file at most a minute later, as client-go.
    setSystemTime(new Date(Date.now() + 61_000));
    expect((await kubeFetch(kc, "/version")).status).toBe(200);
    expect(seen).toEqual(["Bearer first", "Bearer second"]);
  } finally {
    setSystemTime();
    if (env.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
    else process.env.KUBERNETES_SERVICE_HOST = env.host;
    if (env.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
    else process.env.KUBERNETES_SERVICE_PORT = env.port;
    await server.stop(true);
    rmSync(root, { recursive: true, force: true });
  }
});
