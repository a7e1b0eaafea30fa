/**
 * bunvirt's client (compiled/bunvirt start|stop|restart|console) through a
 * real kube-apiserver and its aggregator: the APIService
 * v1.subresources.kubevirt.io points at a stand-in aggregated server on an
 * address added to lo (an Endpoints address may not be loopback) that
 * records what arrives and answers as the controller does. This proves the
 * client's side of the path: its credentials (the admin client certificate;
 * a ServiceAccount token), the API server's own RBAC refusal printed as
 * virtctl prints it, and the console's WebSocket through the API server's
 * upgrade proxy, both ways, with a refusal's message. The controller behind
 * the APIService is proven by tests/control-plane/subresources.test.ts and
 * the whole path on a node by the cluster tier.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeServingCert, makeWebhookCa } from "../../src/roles/controller/webhook-certs.ts";
import { bunvirtCommand, freePort } from "../lib/bunvirt.ts";
import { controlPlaneTier, startControlPlane, type ControlPlane } from "../lib/control-plane.ts";

const skip = controlPlaneTier("control-plane virt client");
const ns = "vms";
const address = "10.251.14.1";
const group = "/apis/subresources.kubevirt.io/v1";

async function sh(argv: string[]): Promise<void> {
  const p = Bun.spawn(argv, { stdout: "ignore", stderr: "pipe" });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`${argv.join(" ")}: ${err}`);
}

async function client(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([...bunvirtCommand(), ...args], { stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

interface Arrived {
  method: string;
  path: string;
  user: string | null;
  body: string;
  protocol: string | null;
}

describe.skipIf(skip !== null)("bunvirt's client through kube-apiserver's aggregator", () => {
  let cp: ControlPlane;
  let standIn: ReturnType<typeof Bun.serve> | undefined;
  let limited: string;
  const arrived: Arrived[] = [];
  const received: string[] = [];
  const port = freePort();

  beforeAll(async () => {
    cp = await startControlPlane();
    // On lo: no kernel module needed (this machine has no dummy links), and not a loopback address.
    await sh(["ip", "addr", "add", `${address}/32`, "dev", "lo"]);
    const ca = await makeWebhookCa();
    const serving = await makeServingCert(ca, { dnsNames: ["bvclient.default.svc"], ips: [address] });
    standIn = Bun.serve({
      hostname: address,
      port,
      tls: { cert: serving.certPem, key: serving.keyPem },
      async fetch(req, server) {
        const path = new URL(req.url).pathname;
        if (path === group) {
          return Response.json({
            kind: "APIResourceList", apiVersion: "v1", groupVersion: "subresources.kubevirt.io/v1",
            resources: ["virtualmachines/start", "virtualmachines/stop", "virtualmachines/restart", "virtualmachineinstances/console"].map((name) => ({ name, namespaced: true, kind: "", verbs: name.endsWith("console") ? ["get"] : ["update"] })),
          });
        }
        if (!path.startsWith(`${group}/namespaces/`)) return new Response("404 page not found", { status: 404 });
        arrived.push({ method: req.method, path, user: req.headers.get("x-remote-user"), body: req.method === "PUT" ? await req.text() : "", protocol: req.headers.get("sec-websocket-protocol") });
        if (path.endsWith("/stopped/stop")) {
          return Response.json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: "Conflict", code: 409, message: 'Operation cannot be fulfilled on virtualmachine.kubevirt.io "stopped": VM is not running' }, { status: 409 });
        }
        if (path.endsWith("/inuse/console") && req.headers.get("upgrade") === "websocket") {
          return Response.json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: "Conflict", code: 409, message: "Console connection already in use" }, { status: 409 });
        }
        if (path.endsWith("/console") && server.upgrade(req, { data: undefined, headers: { "Sec-WebSocket-Protocol": "plain.kubevirt.io" } })) return undefined;
        if (req.method === "PUT") return new Response(null, { status: 202 });
        return new Response("unexpected", { status: 400 });
      },
      websocket: {
        open(ws) {
          ws.sendBinary(new TextEncoder().encode("guest login: "));
        },
        message(ws, m) {
          received.push(typeof m === "string" ? m : new TextDecoder().decode(m));
          ws.sendBinary(typeof m === "string" ? new TextEncoder().encode(m) : m);
        },
      },
    });
    await cp.kubectlOk(["create", "namespace", ns]);
    await cp.kubectlOk(["create", "serviceaccount", "limited", "-n", ns]);
    await cp.kubectlOk(["apply", "-f", "-"], {
      stdin: JSON.stringify({
        apiVersion: "v1", kind: "List", items: [
          { apiVersion: "v1", kind: "Service", metadata: { name: "bvclient", namespace: "default" }, spec: { ports: [{ name: "https", port: 443, targetPort: port }] } },
          { apiVersion: "v1", kind: "Endpoints", metadata: { name: "bvclient", namespace: "default" }, subsets: [{ addresses: [{ ip: address }], ports: [{ name: "https", port }] }] },
          {
            apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
            metadata: { name: "bvclient-1", namespace: "default", labels: { "kubernetes.io/service-name": "bvclient", "endpointslice.kubernetes.io/managed-by": "bunvirt-test" } },
            addressType: "IPv4", endpoints: [{ addresses: [address], conditions: { ready: true } }], ports: [{ name: "https", port, protocol: "TCP" }],
          },
          {
            apiVersion: "apiregistration.k8s.io/v1", kind: "APIService", metadata: { name: "v1.subresources.kubevirt.io" },
            spec: { group: "subresources.kubevirt.io", version: "v1", groupPriorityMinimum: 1000, versionPriority: 15, service: { namespace: "default", name: "bvclient", port: 443 }, caBundle: Buffer.from(ca.certPem).toString("base64") },
          },
          // "limited" may start VMs, not stop them, and has no console.
          { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "starter", namespace: ns }, rules: [
            { apiGroups: ["subresources.kubevirt.io"], resources: ["virtualmachines/start"], verbs: ["update"] },
          ] },
          { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "limited-starter", namespace: ns }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "starter" }, subjects: [{ kind: "ServiceAccount", name: "limited", namespace: ns }] },
        ],
      }),
    });
    const token = (await cp.kubectlOk(["create", "token", "limited", "-n", ns])).trim();
    limited = join(cp.dir, "limited.kubeconfig");
    writeFileSync(limited, [
      "apiVersion: v1", "kind: Config",
      `clusters: [{name: c, cluster: {server: "${cp.server}", certificate-authority: "${cp.pki}/ca.crt"}}]`,
      `users: [{name: limited, user: {token: "${token}"}}]`,
      `contexts: [{name: x, context: {cluster: c, user: limited, namespace: ${ns}}}]`,
      "current-context: x", "",
    ].join("\n"));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await cp.kubectl(["get", "apiservice", "v1.subresources.kubevirt.io", "-o", "jsonpath={.status.conditions[?(@.type==\"Available\")].status}"]);
      if (r.stdout === "True") break;
      if (Date.now() > deadline) throw new Error(`the APIService is not Available: ${(await cp.kubectl(["get", "apiservice", "v1.subresources.kubevirt.io", "-o", "yaml"])).stdout}`);
      await Bun.sleep(250);
    }
  }, 240_000);

  afterAll(async () => {
    await standIn?.stop(true);
    await cp?.stop();
    await sh(["ip", "addr", "del", `${address}/32`, "dev", "lo"]).catch(() => undefined);
  });

  test("start, stop, restart as the admin: the PUTs arrive with the body and the user the API server vouches for", async () => {
    arrived.length = 0;
    const kc = ["--kubeconfig", cp.adminKubeconfig, "-n", ns];
    expect(await client(["stop", "vm1", ...kc])).toEqual({ code: 0, stdout: "VM vm1 was scheduled to stop\n", stderr: "" });
    expect(await client(["start", "vm1", ...kc])).toEqual({ code: 0, stdout: "VM vm1 was scheduled to start\n", stderr: "" });
    expect(await client(["restart", "vm1", "--force", "--grace-period", "0", ...kc])).toEqual({ code: 0, stdout: "VM vm1 was scheduled to restart\n", stderr: "" });
    expect(arrived).toEqual([
      { method: "PUT", path: `${group}/namespaces/${ns}/virtualmachines/vm1/stop`, user: "admin", body: "{}", protocol: null },
      { method: "PUT", path: `${group}/namespaces/${ns}/virtualmachines/vm1/start`, user: "admin", body: "{}", protocol: null },
      { method: "PUT", path: `${group}/namespaces/${ns}/virtualmachines/vm1/restart`, user: "admin", body: '{"gracePeriodSeconds":0}', protocol: null },
    ]);
    const refused = await client(["stop", "stopped", ...kc]);
    expect(refused).toEqual({ code: 1, stdout: "", stderr: 'error stopping VirtualMachine Operation cannot be fulfilled on virtualmachine.kubevirt.io "stopped": VM is not running\n' });
  });

  test("a ServiceAccount token whose Role lacks virtualmachines/stop: the API server's 403, printed as virtctl does; start is let through", async () => {
    arrived.length = 0;
    const r = await client(["stop", "vm1", "--kubeconfig", limited]);
    expect(r).toEqual({
      code: 1, stdout: "",
      stderr: `error stopping VirtualMachine virtualmachines.subresources.kubevirt.io "vm1" is forbidden: User "system:serviceaccount:${ns}:limited" cannot update resource "virtualmachines/stop" in API group "subresources.kubevirt.io" in the namespace "${ns}"\n`,
    });
    expect(await client(["start", "vm1", "--kubeconfig", limited])).toEqual({ code: 0, stdout: "VM vm1 was scheduled to start\n", stderr: "" });
    expect(arrived.map((a) => [a.path.split("/").at(-1), a.user])).toEqual([["start", `system:serviceaccount:${ns}:limited`]]);
  });

  test("console through the API server's upgrade proxy: bytes both ways; a refusal's and the API server's own 403 message", async () => {
    arrived.length = 0;
    received.length = 0;
    const r = await client(["console", "vm1", "--kubeconfig", cp.adminKubeconfig, "-n", ns], "echo hello\n");
    expect(r).toEqual({ code: 0, stdout: "guest login: echo hello\n", stderr: "Successfully connected to vm1 console. Press Ctrl+] or Ctrl+5 to exit console.\n" });
    expect(received.join("")).toBe("echo hello\n");
    expect(arrived[0]).toEqual({ method: "GET", path: `${group}/namespaces/${ns}/virtualmachineinstances/vm1/console`, user: "admin", body: "", protocol: "plain.kubevirt.io" });
    const inUse = await client(["console", "inuse", "--kubeconfig", cp.adminKubeconfig, "-n", ns], "");
    expect(inUse).toEqual({ code: 1, stdout: "", stderr: "Can't connect to websocket (409): Console connection already in use\n" });
    const denied = await client(["console", "vm1", "--kubeconfig", limited], "");
    expect(denied).toEqual({
      code: 1, stdout: "",
      stderr: `Can't connect to websocket (403): virtualmachineinstances.subresources.kubevirt.io "vm1" is forbidden: User "system:serviceaccount:${ns}:limited" cannot get resource "virtualmachineinstances/console" in API group "subresources.kubevirt.io" in the namespace "${ns}"\n`,
    });
  }, 30_000);
});
