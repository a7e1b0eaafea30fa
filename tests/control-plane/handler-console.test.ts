/**
 * The handler role's console wiring on a real kube-apiserver (no kubelet, no
 * launcher: tests/host/console-relay.test.ts has the serial side):
 * `--role handler --console-addr` publishes `kubevirt.io/bunvirt-console`
 * on its Node (address and certificate digest, which the client pins), refuses
 * every client until ConfigMap bunvirt-ca exists, reads it within seconds of
 * its creation, then takes the client
 * certificate that chains to it and answers from its VMI informer (404 for a
 * VMI not on its node).
 *
 *   flock /tmp/bunvirt-host.lock bun test --timeout 600000 ./tests/control-plane/handler-console.test.ts
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConsoleAnnotation, splitHostPort } from "../../src/roles/handler/console-protocol.ts";
import { bunvirtCommand, freePort, repoRoot } from "../lib/bunvirt.ts";
import { dialTls, drain, openConsole } from "../lib/console-client.ts";
import { controlPlaneTier, startControlPlane, type ControlPlane } from "../lib/control-plane.ts";
import { makeTestCa, makeTestClientCert } from "../lib/test-pki.ts";

const skip = controlPlaneTier("control-plane handler console");

describe.skipIf(skip !== null)("handler console server on kube-apiserver", () => {
  let cp: ControlPlane;
  let handler: Bun.Subprocess<"ignore", "ignore", "pipe"> | undefined;
  let handlerLog = "";
  const kubelet = mkdtempSync(join(tmpdir(), "bunvirt-kubelet-"));
  const ca = makeTestCa();
  const client = makeTestClientCert(ca, "bunvirt-controller");

  beforeAll(async () => {
    cp = await startControlPlane();
    await cp.kubectlOk(["create", "namespace", "bunvirt"]);
    await cp.kubectlOk(["apply", "-k", join(repoRoot, "deploy/kustomize/base/crds")]);
    await cp.kubectlOk(["create", "-f", "-"], { stdin: JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: "node-a" } }) });
    handler = Bun.spawn(
      [...bunvirtCommand(), "--role", "handler", "--kubeconfig", cp.adminKubeconfig, "--node-name", "node-a", "--kubelet-root", kubelet,
        "--device-plugins", "false", "--health-addr", `127.0.0.1:${freePort()}`, "--console-addr", "127.0.0.1:0", "--console-advertise", "127.0.0.1"],
      { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { PATH: process.env.PATH ?? "", HOME: cp.dir, POD_NAMESPACE: "bunvirt" } },
    );
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of handler!.stderr) handlerLog += dec.decode(chunk);
    })();
  }, 180_000);

  afterAll(async () => {
    handler?.kill("SIGKILL");
    await handler?.exited;
    await cp?.stop();
    rmSync(kubelet, { recursive: true, force: true });
  });

  async function annotation(): Promise<{ host: string; port: number; sha256: string }> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const text = (await cp.kubectlOk(["get", "node", "node-a", "-o", "jsonpath={.metadata.annotations.kubevirt\\.io/bunvirt-console}"])).trim();
      if (text !== "") {
        const value = parseConsoleAnnotation(text);
        const hp = splitHostPort(value.address)!;
        return { ...hp, sha256: value.sha256 };
      }
      if (Date.now() > deadline) throw new Error(`no console annotation on node-a after 30 s:\n${handlerLog.slice(-3000)}`);
      await Bun.sleep(250);
    }
  }

  test("the Node carries the console's address and digest; before bunvirt-ca exists no client gets a byte; after, a VMI not here is 404", async () => {
    const a = await annotation();
    expect(a.host).toBe("127.0.0.1");
    const dial = { host: a.host, port: a.port, sha256: a.sha256, cert: client };
    // The pinned digest is the served certificate's (dialTls refuses a mismatch).
    const early = await dialTls(dial).then(
      async (s) => {
        s.write('{"namespace":"default","name":"vm1","uid":"1"}\n');
        return drain(s);
      },
      (e: Error) => ({ bytes: Buffer.alloc(0), error: e.message }),
    );
    expect(early.bytes.length).toBe(0);

    await cp.kubectlOk(["create", "configmap", "-n", "bunvirt", "bunvirt-ca", `--from-literal=ca.crt=${ca.certPem}`]);
    const t0 = Date.now();
    // While it has no CA the handler reads it every 2 s (and at once after cutting a client): taken within seconds, not its 30 s pace.
    for (;;) {
      const c = await openConsole(dial, { namespace: "default", name: "vm1", uid: "0123-4567" }).catch((e: Error) => e);
      if (!(c instanceof Error)) {
        expect(c.reply).toEqual({ ok: false, code: 404, message: 'VMI "default/vm1" with uid "0123-4567" is not on node "node-a"' });
        break;
      }
      if (Date.now() - t0 > 10_000) throw new Error(`the handler did not take the CA within 10 s (${c.message}):\n${handlerLog.slice(-3000)}`);
      await Bun.sleep(1000);
    }
    console.log(`handler console: the CA taken ${Date.now() - t0} ms after the ConfigMap was made`);
    // A wrong pin is refused by the client.
    await expect(dialTls({ ...dial, sha256: "0".repeat(64) })).rejects.toThrow("server certificate sha256");
  }, 120_000);
});
