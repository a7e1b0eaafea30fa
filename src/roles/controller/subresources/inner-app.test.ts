/**
 * The routes that need no API server: discovery, /version, unknown paths
 * and methods, a request without the user headers. Authorization and the
 * subresources themselves run against a real kube-apiserver in
 * tests/control-plane/subresources.test.ts.
 */
import { expect, test } from "bun:test";
import type { Server } from "bun";
import type { ConsoleSession } from "./console-proxy.ts";
import { innerApp, subresourceRoute } from "./inner-app.ts";
import { requestHeaderConfig } from "./request-header.ts";

const config = requestHeaderConfig({ "requestheader-client-ca-file": "-----BEGIN CERTIFICATE-----\n", "requestheader-username-headers": '["X-Remote-User"]' });
const unused = () => {
  throw new Error("no API server in this test");
};
const app = innerApp({ rest: { get: unused, patch: unused, create: unused }, config: () => config, dial: unused });
const call = async (method: string, path: string, headers: Record<string, string> = {}) => {
  const res = (await app(new Request(`http://x${path}`, { method, headers }), {} as Server<ConsoleSession>))!;
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as Record<string, unknown> };
};

test("discovery: the group, its version's resources, /version", async () => {
  expect((await call("GET", "/apis")).body).toMatchObject({ kind: "APIGroupList", groups: [{ name: "subresources.kubevirt.io", preferredVersion: { groupVersion: "subresources.kubevirt.io/v1" } }] });
  expect((await call("GET", "/apis/subresources.kubevirt.io")).body).toMatchObject({ kind: "APIGroup", name: "subresources.kubevirt.io" });
  const list = await call("GET", "/apis/subresources.kubevirt.io/v1/");
  expect((list.body.resources as { name: string }[]).map((r) => r.name)).toContain("virtualmachineinstances/console");
  expect((await call("GET", "/apis/subresources.kubevirt.io/v1/version")).body.gitVersion).toMatch(/^v\d/);
});

test("unknown paths 404, wrong methods 405, no user 401: Status JSON with Content-Type exactly application/json", async () => {
  const missing = await call("GET", "/apis/subresources.kubevirt.io/v1/namespaces/ns/virtualmachines/vm1/migrate");
  expect(missing).toMatchObject({ status: 404, type: "application/json", body: { kind: "Status", code: 404 } });
  expect((await call("GET", "/apis/subresources.kubevirt.io/v1/namespaces/ns/virtualmachines/vm1/stop")).status).toBe(405);
  expect((await call("PUT", "/apis/subresources.kubevirt.io/v1/namespaces/ns/virtualmachines/vm1/stop")).status).toBe(401);
  expect((await call("PUT", "/apis/subresources.kubevirt.io/v1/namespaces/NS_/virtualmachines/vm1/stop", { "X-Remote-User": "a" })).status).toBe(404);
});

test("subresource paths: names as Kubernetes allows them", () => {
  expect(subresourceRoute("/apis/subresources.kubevirt.io/v1/namespaces/ns/virtualmachines/vm.1/restart")).toEqual({ namespace: "ns", resource: "virtualmachines", name: "vm.1", subresource: "restart" });
  expect(subresourceRoute("/apis/subresources.kubevirt.io/v1/namespaces/ns/virtualmachineinstances/vm1/console")?.subresource).toBe("console");
  expect(subresourceRoute("/apis/subresources.kubevirt.io/v1/namespaces/ns/virtualmachineinstances/vm1/start")).toBeUndefined();
  expect(subresourceRoute(`/apis/subresources.kubevirt.io/v1/namespaces/ns/virtualmachines/${"a".repeat(254)}/start`)).toBeUndefined();
});
