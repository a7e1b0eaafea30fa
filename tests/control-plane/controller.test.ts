/**
 * `bunvirt --role controller` against a real kube-apiserver (anonymous
 * requests refused): it reaches the cluster with a client-certificate
 * kubeconfig, a token kubeconfig and in-cluster service-account credentials
 * (each with the CA file), and it elects one leader on a coordination.k8s.io
 * Lease: the standby is not ready and takes over once the killed leader's
 * lease has expired.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { bunvirtCommand, freePort } from "../lib/bunvirt.ts";
import { controlPlaneTier, startControlPlane, type ControlPlane } from "../lib/control-plane.ts";

const skip = controlPlaneTier("control-plane controller");
const leaseSeconds = 3;
const retrySeconds = 0.5;

interface Controller {
  proc: Bun.Subprocess<"ignore", "ignore", "pipe">;
  base: string;
  identity: string;
  stderr: Promise<string>;
}

interface Lease {
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

describe.skipIf(skip !== null)("controller on kube-apiserver", () => {
  let cp: ControlPlane;
  const procs: Bun.Subprocess[] = [];
  let token = "";

  beforeAll(async () => {
    cp = await startControlPlane();
    // The controller's service account may keep its Lease, nothing more.
    await cp.kubectlOk(["create", "namespace", "bunvirt"]);
    await cp.kubectlOk(["create", "serviceaccount", "bunvirt-controller", "-n", "bunvirt"]);
    await cp.kubectlOk(["create", "clusterrole", "bunvirt-controller-lease", "--verb=get,create,update", "--resource=leases.coordination.k8s.io"]);
    await cp.kubectlOk(["create", "clusterrolebinding", "bunvirt-controller-lease", "--clusterrole=bunvirt-controller-lease", "--serviceaccount=bunvirt:bunvirt-controller"]);
    token = (await cp.kubectlOk(["create", "token", "bunvirt-controller", "-n", "bunvirt", "--duration=1h"])).trim();
  }, 180_000);

  afterAll(async () => {
    for (const p of procs) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
    await cp?.stop();
  });

  /** Starts a controller whose Lease lives in `namespace`; `wrap` runs before the command (e.g. unshare). */
  function startController(name: string, namespace: string, args: string[], env: Record<string, string> = {}, wrap: string[] = []): Controller {
    const port = freePort();
    const proc = Bun.spawn(
      [...wrap, ...bunvirtCommand(), "--role", "controller", "--health-addr", `127.0.0.1:${port}`,
        "--leader-elect-lease-duration", String(leaseSeconds), "--leader-elect-retry-period", String(retrySeconds),
        "--launcher-image", "registry.test/bunvirt:dev", ...args],
      { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { PATH: process.env.PATH ?? "", HOME: cp.dir, POD_NAME: name, POD_NAMESPACE: namespace, ...env } },
    );
    procs.push(proc);
    // The wrappers exec the controller: its pid is the process's.
    return { proc, base: `http://127.0.0.1:${port}`, identity: `${name}_${proc.pid}`, stderr: new Response(proc.stderr).text() };
  }

  async function readyz(c: Controller): Promise<{ status: number; body: string }> {
    try {
      const r = await fetch(`${c.base}/readyz`);
      return { status: r.status, body: await r.text() };
    } catch {
      return { status: 0, body: "not listening" };
    }
  }

  /** Waits until the controller is ready; fails with its last readiness and log when it is not within a minute. */
  async function becomesReady(c: Controller): Promise<void> {
    const deadline = Date.now() + 60_000;
    let last = await readyz(c);
    while (last.status !== 200 && Date.now() < deadline && c.proc.exitCode === null) {
      await Bun.sleep(100);
      last = await readyz(c);
    }
    if (last.status !== 200) {
      c.proc.kill("SIGKILL");
      throw new Error(`controller ${c.identity} not ready: ${last.status} ${last.body}\n${await c.stderr}`);
    }
  }

  async function lease(namespace: string): Promise<Lease> {
    return JSON.parse(await cp.kubectlOk(["get", "lease", "bunvirt-controller", "-n", namespace, "-o", "json"])) as Lease;
  }

  async function stopped(c: Controller): Promise<void> {
    c.proc.kill("SIGTERM");
    expect(await c.proc.exited).toBe(0);
  }

  test("a client-certificate kubeconfig with a CA file: ready, holds the Lease with MicroTime stamps", async () => {
    await cp.kubectlOk(["create", "namespace", "cert"]);
    const c = startController("cert", "cert", ["--kubeconfig", cp.adminKubeconfig]);
    await becomesReady(c);
    const got = await lease("cert");
    expect(got.spec.holderIdentity).toBe(c.identity);
    expect(got.spec.leaseDurationSeconds).toBe(leaseSeconds);
    expect(got.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(got.spec.acquireTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await stopped(c);
  }, 90_000);

  test("a token kubeconfig with a CA file (a service account's token): ready", async () => {
    const kubeconfig = join(cp.dir, "token.kubeconfig");
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${cp.server}", certificate-authority: "${cp.pki}/ca.crt"}}]
users: [{name: sa, user: {token: "${token}"}}]
contexts: [{name: x, context: {cluster: c, user: sa}}]
current-context: x
`,
    );
    const c = startController("token", "bunvirt", ["--kubeconfig", kubeconfig]);
    await becomesReady(c);
    expect((await lease("bunvirt")).spec.holderIdentity).toBe(c.identity);
    await stopped(c);
  }, 90_000);

  test.skipIf(process.getuid?.() !== 0)("in-cluster credentials (service-account token and CA under /var/run/secrets): ready", async () => {
    // A private mount namespace gets its own /run with the files a pod would see; the host's /run is untouched.
    writeFileSync(join(cp.dir, "token"), token);
    const setup = [
      "mount -t tmpfs -o mode=755 tmpfs /run",
      "mkdir -p /run/secrets/kubernetes.io/serviceaccount",
      `cp ${cp.dir}/token ${cp.pki}/ca.crt /run/secrets/kubernetes.io/serviceaccount/`,
      "echo bunvirt > /run/secrets/kubernetes.io/serviceaccount/namespace",
      'exec "$@"',
    ].join(" && ");
    const port = new URL(cp.server).port;
    await cp.kubectlOk(["create", "namespace", "in-cluster"]);
    const c = startController("incluster", "in-cluster", [], { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: port },
      ["unshare", "--mount", "--propagation", "private", "sh", "-c", setup, "sh"]);
    await becomesReady(c);
    expect((await lease("in-cluster")).spec.holderIdentity).toBe(c.identity);
    await stopped(c);
  }, 90_000);

  test("two replicas: one leader, the standby not ready; SIGKILL the leader and the standby takes over after its lease expires", async () => {
    await cp.kubectlOk(["create", "namespace", "election"]);
    const a = startController("a", "election", ["--kubeconfig", cp.adminKubeconfig]);
    const b = startController("b", "election", ["--kubeconfig", cp.adminKubeconfig]);
    await Promise.race([becomesReady(a), becomesReady(b)]);
    // The standby may still be starting its health server: wait until both answer.
    for (const c of [a, b]) {
      const deadline = Date.now() + 30_000;
      while ((await readyz(c)).status === 0 && Date.now() < deadline && c.proc.exitCode === null) await Bun.sleep(100);
    }
    // Over several retry periods: exactly one is ready, and it is the Lease's holder.
    let leader: Controller | undefined;
    for (let i = 0; i < 8; i++) {
      const [ra, rb] = await Promise.all([readyz(a), readyz(b)]);
      expect([ra.status, rb.status].sort()).toEqual([200, 503]);
      const now = ra.status === 200 ? a : b;
      if (leader !== undefined) expect(now).toBe(leader);
      leader = now;
      await Bun.sleep(retrySeconds * 1000);
    }
    const standby = leader === a ? b : a;
    const held = await lease("election");
    expect(held.spec.holderIdentity).toBe(leader!.identity);
    const waiting = await readyz(standby);
    expect(waiting.status).toBe(503);
    expect(waiting.body).toContain(`leader: standby; the leader is "${leader!.identity}"`);

    leader!.proc.kill("SIGKILL");
    await leader!.proc.exited;
    const killedAt = Date.now();
    const last = await lease("election");
    await becomesReady(standby);
    console.error(`standby ready ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the leader's SIGKILL (lease ${leaseSeconds} s, retry ${retrySeconds} s)`);
    const taken = await lease("election");
    expect(taken.spec.holderIdentity).toBe(standby.identity);
    expect(taken.spec.leaseTransitions).toBe((held.spec.leaseTransitions ?? 0) + 1);
    // No overlap: the standby acquired only after the dead leader's last renewal had expired.
    const expiry = Date.parse(last.spec.renewTime!) + leaseSeconds * 1000;
    expect(Date.parse(taken.spec.acquireTime!)).toBeGreaterThanOrEqual(expiry);
    await stopped(standby);
  }, 120_000);
});
