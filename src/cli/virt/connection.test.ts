/** Which API server, credentials and namespace the client commands use: kubectl's rules. */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { subresourcePath, virtConnection } from "./connection.ts";

const dir = mkdtempSync(join(tmpdir(), "bunvirt-conn-"));
const file = join(dir, "config");
writeFileSync(file, `apiVersion: v1
kind: Config
clusters:
- {name: one, cluster: {server: "https://10.0.0.1:6443/", insecure-skip-tls-verify: true}}
- {name: two, cluster: {server: "https://10.0.0.2:6443"}}
users:
- {name: u1, user: {token: t1}}
- {name: u2, user: {token: t2}}
contexts:
- {name: first, context: {cluster: one, user: u1, namespace: team-a}}
- {name: second, context: {cluster: two, user: u2}}
- {name: broken, context: {cluster: nowhere, user: u2}}
current-context: first
`);
const saved = process.env.KUBECONFIG;
afterEach(() => {
  if (saved === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = saved;
});

test("the current context: its server, TLS settings, token and namespace; -n wins", async () => {
  const c = virtConnection({ kubeconfig: file });
  expect([c.server, c.namespace, c.tls.rejectUnauthorized]).toEqual(["https://10.0.0.1:6443", "team-a", false]);
  expect(await c.authHeaders(`${c.server}/x`)).toEqual({ Authorization: "Bearer t1" });
  expect(virtConnection({ kubeconfig: file, namespace: "other" }).namespace).toBe("other");
});

test('--context picks another; a context without a namespace means "default"', async () => {
  const c = virtConnection({ kubeconfig: file, context: "second" });
  expect([c.server, c.namespace]).toEqual(["https://10.0.0.2:6443", "default"]);
  expect(await c.authHeaders(`${c.server}/x`)).toEqual({ Authorization: "Bearer t2" });
  expect(() => virtConnection({ kubeconfig: file, context: "third" })).toThrow('--context "third": the kubeconfig has no such context');
  expect(() => virtConnection({ kubeconfig: file, context: "broken" })).toThrow('--context "broken": its cluster is not in the kubeconfig');
});

test("$KUBECONFIG without --kubeconfig; a missing --kubeconfig file is named", () => {
  process.env.KUBECONFIG = file;
  expect(virtConnection({}).server).toBe("https://10.0.0.1:6443");
  expect(() => virtConnection({ kubeconfig: join(dir, "nope") })).toThrow(`Cannot load kubeconfig: "${join(dir, "nope")}" does not exist`);
});

test("names are escaped in the path", () => {
  expect(subresourcePath("ns", "virtualmachines", "a/b?c", "stop")).toBe("/apis/subresources.kubevirt.io/v1/namespaces/ns/virtualmachines/a%2Fb%3Fc/stop");
});
