/**
 * The aggregated API subresources.kubevirt.io/v1 on a real kube-apiserver:
 * the controller as a host process serves it on 10.251.13.1, an address the
 * test adds to `lo` and removes (an Endpoints address may not be in 127/8), behind a
 * selector-less Service bunvirt/bunvirt-controller with its Endpoints and
 * EndpointSlice, the APIService of deploy/kustomize/base registered by the
 * controller with its CA. Through the API server: discovery lists the
 * subresources; start, stop (with a grace period, patched on the VMI first)
 * and restart change the VM as KubeVirt's virt-api does, with its 409 and
 * 404 answers; a user whose Role lacks virtualmachines/stop gets 403 (from
 * the API server, and from the controller's own SubjectAccessReview when
 * asked directly with the front-proxy certificate). Straight to the
 * listener: no client certificate, or an ordinary user's certificate
 * signed by the same CA, gets no byte. The console: 404 without a VMI, 400
 * "VMI is not running" while it is Pending; then, with a Node object whose
 * console annotation names a stand-in for the handler's console server (a
 * TLS server speaking console-protocol.ts, trusting ConfigMap bunvirt-ca as
 * the handler does; the real one is proven in tests/host/console-relay.test.ts)
 * and the VMI marked Running there, a WebSocket through the API server
 * carries bytes both ways.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { certificateSha256, consoleClientCommonName, encodeConsoleLine, parseConsoleRequest, readConsoleLine } from "../../src/roles/handler/console-protocol.ts";
import { makeServingCert, makeWebhookCa } from "../../src/roles/controller/webhook-certs.ts";
import { bunvirtCommand, freePort, repoRoot } from "../lib/bunvirt.ts";
import { controlPlaneTier, startControlPlane, type ControlPlane } from "../lib/control-plane.ts";
import { rawTlsRequest } from "../lib/raw-tls.ts";
import { virtctlPath, virtctlSkip } from "../lib/virtctl.ts";

const skip = controlPlaneTier("control-plane subresources");
const ns = "vms";
const address = "10.251.13.1";
const group = "/apis/subresources.kubevirt.io/v1";
const testvm = join(repoRoot, "tests/fixtures/user-guide/quickstart-testvm.yaml");
const virtctl = virtctlPath;
const noVirtctl = virtctlSkip("control-plane subresources");

interface Obj {
  metadata: { name: string; uid: string };
  spec: { runStrategy?: string; terminationGracePeriodSeconds?: number };
  status?: { stateChangeRequests?: unknown[]; printableStatus?: string };
}

async function sh(argv: string[]): Promise<void> {
  const p = Bun.spawn(argv, { stdout: "ignore", stderr: "pipe" });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  if (code !== 0) throw new Error(`${argv.join(" ")}: ${err}`);
}

describe.skipIf(skip !== null)("the aggregated API subresources.kubevirt.io on kube-apiserver", () => {
  let cp: ControlPlane;
  let proc: Bun.Subprocess<"ignore", "ignore", "pipe"> | undefined;
  let stderr: Promise<string> = Promise.resolve("");
  const port = freePort();

  beforeAll(async () => {
    cp = await startControlPlane();
    // A run that was killed may have left it.
    await sh(["ip", "addr", "del", `${address}/32`, "dev", "lo"]).catch(() => undefined);
    await sh(["ip", "addr", "add", `${address}/32`, "dev", "lo"]);
    await cp.kubectlOk(["create", "namespace", "bunvirt"]);
    await cp.kubectlOk(["create", "namespace", ns]);
    await cp.kubectlOk(["create", "serviceaccount", "default", "-n", ns]);
    // The Service the APIService names, its endpoint the controller on 10.251.13.1 (no kube-controller-manager here to make them).
    await cp.kubectlOk(["apply", "-f", "-"], {
      stdin: JSON.stringify({
        apiVersion: "v1", kind: "List", items: [
          { apiVersion: "v1", kind: "Service", metadata: { name: "bunvirt-controller", namespace: "bunvirt" }, spec: { ports: [{ name: "subresources", port: 8444, targetPort: port }] } },
          { apiVersion: "v1", kind: "Endpoints", metadata: { name: "bunvirt-controller", namespace: "bunvirt" }, subsets: [{ addresses: [{ ip: address }], ports: [{ name: "subresources", port }] }] },
          {
            apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
            metadata: { name: "bunvirt-controller-1", namespace: "bunvirt", labels: { "kubernetes.io/service-name": "bunvirt-controller", "endpointslice.kubernetes.io/managed-by": "bunvirt-test" } },
            addressType: "IPv4", endpoints: [{ addresses: [address], conditions: { ready: true } }], ports: [{ name: "subresources", port, protocol: "TCP" }],
          },
          // "limited" may get VMs and start them, not stop them.
          { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "starter", namespace: ns }, rules: [
            { apiGroups: ["kubevirt.io"], resources: ["virtualmachines"], verbs: ["get", "list"] },
            { apiGroups: ["subresources.kubevirt.io"], resources: ["virtualmachines/start"], verbs: ["update"] },
          ] },
          { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "limited-starter", namespace: ns }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "starter" }, subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "limited" }] },
        ],
      }),
    });
    await cp.kubectlOk(["apply", "-f", join(repoRoot, "deploy/kustomize/base/apiservice.yaml")]);
    const health = freePort();
    const webhook = freePort();
    proc = Bun.spawn(
      [...bunvirtCommand(), "--role", "controller", "--kubeconfig", cp.adminKubeconfig, "--health-addr", `127.0.0.1:${health}`,
        "--webhook-addr", `127.0.0.1:${webhook}`, "--webhook-url", `https://127.0.0.1:${webhook}`,
        "--subresource-addr", `${address}:${port}`, "--subresource-service", "bunvirt/bunvirt-controller:8444",
        "--launcher-image", "registry.test/bunvirt:dev", "--leader-elect-lease-duration", "5", "--leader-elect-retry-period", "0.5"],
      { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { PATH: process.env.PATH ?? "", HOME: cp.dir, POD_NAME: "c1", POD_NAMESPACE: "bunvirt" } },
    );
    stderr = new Response(proc.stderr).text();
    await until("the controller ready and the APIService Available", async () => {
      const ready = await fetch(`http://127.0.0.1:${health}/readyz`).then((r) => r.status, () => 0);
      if (ready !== 200) return undefined;
      const r = await cp.kubectl(["get", "apiservice", "v1.subresources.kubevirt.io", "-o", "jsonpath={.status.conditions[?(@.type==\"Available\")].status}"]);
      return r.stdout === "True" ? true : undefined;
    }, 90);
  }, 240_000);

  afterAll(async () => {
    if (proc !== undefined) {
      proc.kill("SIGTERM");
      const code = await proc.exited;
      if (code !== 0 || process.env.BUNVIRT_TEST_LOG === "1") console.error(`controller exited ${code}:\n${await stderr}`);
    }
    await cp?.stop();
    await sh(["ip", "addr", "del", `${address}/32`, "dev", "lo"]).catch(() => undefined);
  });

  async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds = 30): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const got = await probe();
      if (got !== undefined) return got;
      if (Date.now() > deadline || (proc !== undefined && proc.exitCode !== null)) {
        proc?.kill("SIGKILL");
        throw new Error(`Timed out waiting for ${what}; controller log:\n${await stderr}`);
      }
      await Bun.sleep(200);
    }
  }

  const get = (kind: string, name: string): Promise<Obj | null> => cp.getJson<Obj>(kind, name, ns);
  /** PUT through the API server (kubectl replace --raw); exit code and stderr. */
  const put = (name: string, action: string, body: object = {}, as?: string) =>
    cp.kubectl([...(as !== undefined ? ["--as", as] : []), "replace", "--raw", `${group}/namespaces/${ns}/virtualmachines/${name}/${action}`, "-f", "-"], { stdin: JSON.stringify(body) });

  test("kubectl get --raw lists the subresources and the version", async () => {
    const list = JSON.parse(await cp.kubectlOk(["get", "--raw", group])) as { groupVersion: string; resources: { name: string }[] };
    expect(list.groupVersion).toBe("subresources.kubevirt.io/v1");
    expect(list.resources.map((r) => r.name)).toEqual(["virtualmachines/start", "virtualmachines/stop", "virtualmachines/restart", "virtualmachineinstances/console"]);
    const version = JSON.parse(await cp.kubectlOk(["get", "--raw", `${group}/version`])) as { gitVersion: string };
    expect(version.gitVersion).toMatch(/^v\d+\.\d+\.\d+/);
    // The leader published the CA for the handlers.
    expect(await cp.kubectlOk(["get", "configmap", "bunvirt-ca", "-n", "bunvirt", "-o", "jsonpath={.data.ca\\.crt}"])).toContain("BEGIN CERTIFICATE");
  });

  test("start, restart, stop through the API server change the VM as KubeVirt does; 409 and 404 in its words", async () => {
    await cp.kubectlOk(["apply", "-n", ns, "-f", testvm]);
    const t0 = performance.now();
    const started = await put("testvm", "start");
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    expect((await get("vm", "testvm"))?.spec.runStrategy).toBe("Always");
    const first = await until("the VMI after start", async () => (await get("vmi", "testvm")) ?? undefined);
    console.log(`start: VMI created ${((performance.now() - t0) / 1000).toFixed(2)} s after the request`);

    const again = await put("testvm", "start");
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('Operation cannot be fulfilled on virtualmachine.kubevirt.io "testvm": VM is already running');

    const t1 = performance.now();
    expect((await put("testvm", "restart")).code).toBe(0);
    const second = await until("a new VMI after restart", async () => {
      const vmi = await get("vmi", "testvm");
      return vmi !== null && vmi.metadata.uid !== first.metadata.uid ? vmi : undefined;
    }, 60);
    expect(second.metadata.uid).not.toBe(first.metadata.uid);
    console.log(`restart: a new VMI ${((performance.now() - t1) / 1000).toFixed(2)} s after the request`);
    await until("the restart's requests done", async () => ((await get("vm", "testvm"))?.status?.stateChangeRequests === undefined ? true : undefined));

    // A grace period: the VMI's terminationGracePeriodSeconds is patched first (the webhooks let the controller change that alone).
    const t2 = performance.now();
    const stopped = await put("testvm", "stop", { gracePeriod: 0 });
    expect(stopped.stderr).toBe("");
    expect(stopped.code).toBe(0);
    expect((await get("vm", "testvm"))?.spec.runStrategy).toBe("Halted");
    await until("the VMI gone after stop", async () => ((await get("vmi", "testvm")) === null ? true : undefined), 60);
    console.log(`stop: VMI gone ${((performance.now() - t2) / 1000).toFixed(2)} s after the request`);

    const notRunning = await put("testvm", "stop");
    expect(notRunning.stderr).toContain('Operation cannot be fulfilled on virtualmachine.kubevirt.io "testvm": VM is not running');
    const restartHalted = await put("testvm", "restart");
    expect(restartHalted.stderr).toContain("RunStategy Halted does not support manual restart requests");
    const missing = await put("nosuchvm", "start");
    expect(missing.stderr).toContain('virtualmachine.kubevirt.io "nosuchvm" not found');
    const bad = await put("testvm", "stop", { gracePeriod: "soon" });
    expect(bad.stderr).toContain('field "gracePeriod" must be an integer');
  }, 180_000);

  test("a user whose Role lacks virtualmachines/stop gets 403; start is allowed", async () => {
    const denied = await put("testvm", "stop", {}, "limited");
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('User "limited" cannot update resource "virtualmachines/stop" in API group "subresources.kubevirt.io"');
    const allowed = await put("testvm", "start", {}, "limited");
    expect(allowed.stderr).toBe("");
    await until("the VMI after limited's start", async () => (await get("vmi", "testvm")) ?? undefined);
    expect((await put("testvm", "stop")).code).toBe(0);
  }, 60_000);

  /** One raw HTTP request to the listener; every byte it answers. */
  async function direct(cert: string | undefined, request: string): Promise<string> {
    const creds = cert === undefined ? {} : { cert: readFileSync(join(cp.pki, `${cert}.crt`)), key: readFileSync(join(cp.pki, `${cert}.key`)) };
    return (await rawTlsRequest({ host: address, port, rejectUnauthorized: false, ...creds }, request, 5000)).text;
  }

  test("straight to the listener: no certificate or an ordinary user's certificate gets no byte; the controller's own review refuses limited", async () => {
    const stop = `PUT ${group}/namespaces/${ns}/virtualmachines/testvm/stop HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-Remote-User: limited\r\nConnection: close\r\n\r\n{}`;
    expect(await direct(undefined, stop)).toBe("");
    // admin's certificate is signed by the requestheader CA too, but its CN is not front-proxy-client.
    expect(await direct("admin", stop)).toBe("");
    const answer = await direct("front-proxy-client", stop);
    expect(answer).toStartWith("HTTP/1.1 403");
    expect(answer).toContain('virtualmachines.subresources.kubevirt.io \\"testvm\\" is forbidden: User \\"limited\\" cannot update resource \\"virtualmachines/stop\\"');
    const anonymous = await direct("front-proxy-client", `GET ${group}/namespaces/${ns}/virtualmachineinstances/testvm/console HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(anonymous).toStartWith("HTTP/1.1 401");
  }, 60_000);

  test("console: 404 without a VMI, 400 VMI is not running while it is Pending", async () => {
    const none = await cp.kubectl(["get", "--raw", `${group}/namespaces/${ns}/virtualmachineinstances/nosuch/console`]);
    expect(none.stderr).toContain('virtualmachineinstance.kubevirt.io "nosuch" not found');
    expect((await put("testvm", "start")).code).toBe(0);
    await until("a VMI", async () => (await get("vmi", "testvm")) ?? undefined);
    const pending = await cp.kubectl(["get", "--raw", `${group}/namespaces/${ns}/virtualmachineinstances/testvm/console`]);
    expect(pending.stderr).toContain("VMI is not running");
  }, 60_000);

  test("console through the API server, the controller and a stand-in handler: bytes both ways", async () => {
    // The stand-in handler: the CA it trusts is the one the leader published.
    const caPem = await cp.kubectlOk(["get", "configmap", "bunvirt-ca", "-n", "bunvirt", "-o", "jsonpath={.data.ca\\.crt}"]);
    const own = await makeServingCert(await makeWebhookCa(), { dnsNames: [], ips: ["127.0.0.1"] });
    const requests: string[] = [];
    const handler = tls.createServer({ cert: own.certPem, key: own.keyPem, ca: caPem, requestCert: true, rejectUnauthorized: true }, async (sock) => {
      if (sock.getPeerCertificate().subject?.CN !== consoleClientCommonName) return sock.destroy();
      const { line } = await readConsoleLine(sock);
      requests.push(JSON.stringify(parseConsoleRequest(line)));
      sock.write(Buffer.concat([encodeConsoleLine({ ok: true }), Buffer.from("login: ")]));
      sock.on("data", (d) => sock.write(d.toString().toUpperCase()));
      sock.resume();
    });
    await new Promise<void>((r) => handler.listen(0, "127.0.0.1", r));
    try {
      const sha256 = certificateSha256(new Uint8Array(new X509Certificate(own.certPem).raw));
      const annotation = JSON.stringify({ address: `127.0.0.1:${(handler.address() as AddressInfo).port}`, sha256 });
      await cp.kubectlOk(["create", "-f", "-"], { stdin: JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: "node1", annotations: { "kubevirt.io/bunvirt-console": annotation } } }) });
      // The VMI of the previous test (its launcher pod exists): marked Running on node1, as the handler would.
      const vmi = await until("the VMI Scheduling", async () => {
        const v = await get("vmi", "testvm");
        return (v as { status?: { phase?: string } } | null)?.status?.phase === "Scheduling" ? v! : undefined;
      });
      await cp.kubectlOk(["patch", "vmi", "testvm", "-n", ns, "--type=merge", "-p", JSON.stringify({ status: { phase: "Running", nodeName: "node1" } })]);

      const t0 = performance.now();
      const tlsOpts = { ca: readFileSync(join(cp.pki, "ca.crt"), "utf8"), cert: readFileSync(join(cp.pki, "admin.crt"), "utf8"), key: readFileSync(join(cp.pki, "admin.key"), "utf8") };
      const ws = new WebSocket(`${cp.server.replace("https:", "wss:")}${group}/namespaces/${ns}/virtualmachineinstances/testvm/console`, { protocols: ["plain.kubevirt.io"], tls: tlsOpts } as unknown as string[]);
      ws.binaryType = "arraybuffer";
      let got = "";
      const opened = await new Promise<boolean>((resolve) => {
        ws.onopen = () => resolve(true);
        ws.onerror = () => resolve(false);
        ws.onmessage = (e) => (got += Buffer.from(e.data as ArrayBuffer).toString());
      });
      expect(opened).toBe(true);
      expect(ws.protocol).toBe("plain.kubevirt.io");
      ws.send(new TextEncoder().encode("echo hi\n"));
      await until("the echoed line", async () => (got.includes("ECHO HI") ? true : undefined), 10);
      console.log(`console: connected and echoed ${((performance.now() - t0) / 1000).toFixed(2)} s after the request`);
      expect(got).toBe("login: ECHO HI\n");
      expect(JSON.parse(requests[0]!)).toEqual({ namespace: ns, name: "testvm", uid: vmi.metadata.uid });
      ws.close();
    } finally {
      handler.close();
    }
  }, 90_000);

  test.skipIf(noVirtctl !== null)("KubeVirt's virtctl v1.6.0: version, stop, start, restart through the API server", async () => {
    const run = async (...args: string[]) => {
      const p = Bun.spawn([virtctl, "--kubeconfig", cp.adminKubeconfig, ...args], { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "", HOME: cp.dir } });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      return { out, err, code };
    };
    const version = await run("version");
    expect(version.out).toContain('Server Version: version.Info{GitVersion:"v');
    await until("the VMI", async () => (await get("vmi", "testvm")) ?? undefined);
    const stop = await run("stop", "testvm", "-n", ns);
    expect(stop).toMatchObject({ code: 0, out: "VM testvm was scheduled to stop\n" });
    await until("the VMI gone after virtctl stop", async () => ((await get("vmi", "testvm")) === null ? true : undefined), 60);
    const again = await run("stop", "testvm", "-n", ns);
    expect(again.code).not.toBe(0);
    expect(again.err).toContain('Operation cannot be fulfilled on virtualmachine.kubevirt.io "testvm": VM is not running');
    const start = await run("start", "testvm", "-n", ns);
    expect(start).toMatchObject({ code: 0, out: "VM testvm was scheduled to start\n" });
    const first = await until("the VMI after virtctl start", async () => (await get("vmi", "testvm")) ?? undefined);
    const restart = await run("restart", "testvm", "-n", ns);
    expect(restart).toMatchObject({ code: 0, out: "VM testvm was scheduled to restart\n" });
    await until("a new VMI after virtctl restart", async () => {
      const vmi = await get("vmi", "testvm");
      return vmi !== null && vmi.metadata.uid !== first.metadata.uid ? true : undefined;
    }, 60);
  }, 180_000);
});
