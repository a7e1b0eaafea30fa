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
