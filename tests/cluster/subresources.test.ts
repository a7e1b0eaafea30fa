/**
 * KubeVirt's subresource API (`subresources.kubevirt.io/v1`, aggregated into the
 * API server, served by the controller) on bunvirt deployed with `kubectl apply -k`
 * (tests/lib/e2e-deployed.ts, a node of its own), driven by both clients:
 * - discovery: `kubectl get --raw /apis/subresources.kubevirt.io/v1` lists
 *   virtualmachines/start|stop|restart and virtualmachineinstances/console;
 * - bunvirt's own client (compiled/bunvirt, and as the kubectl plugin `kubectl virt`
 *   through a `kubectl-virt` symlink on PATH): stop → Stopped, no VMI; start → Running;
 *   restart → a new VMI; console → a typed line comes back from the guest;
 * - KubeVirt's virtctl v1.6.0 (scripts/cluster/build-virtctl.sh): version, stop, start,
 *   restart, console do the same;
 * - a user whose Role grants virtualmachines/start but not /stop gets 403 on stop from
 *   both clients (and start passes authorization);
 * - the controller's port straight from the host: no HTTP byte without the API
 *   server's front-proxy certificate (no certificate, or a cluster user's one);
 * - one console per VMI at a time.
 * Figures (how long each power action takes through each client) are printed, not asserted.
 *
 * What virtctl v1.6.0 sends (read from kubevirt.io/kubevirt@v1.6.0 pkg/virtctl and
 * kubevirt.io/client-go@v1.6.0; details in the project's notes for the subresource API):
 * - start|stop|restart: one `PUT /apis/subresources.kubevirt.io/v1/namespaces/NS/virtualmachines/NAME/ACTION`,
 *   Content-Type application/json, body `{}` (start --paused `{"paused":true}`, stop --force
 *   --grace-period=0 `{"gracePeriod":0}`, restart the same as `{"gracePeriodSeconds":0}`,
 *   --dry-run `{"dryRun":["All"]}`); any 2xx is success and it prints "VM NAME was scheduled to ACTION".
 *   On an error it prints the Status message ("Error starting VirtualMachine MSG",
 *   "error stopping VirtualMachine MSG", "error restarting VirtualMachine: MSG"), after first
 *   running the version check below (a warning when the server's major.minor is not 1.6).
 * - version: `GET /apis/subresources.kubevirt.io` (APIGroup; answered by the aggregator),
 *   then `GET /apis/subresources.kubevirt.io/v1/version` (gitVersion, gitCommit, ... strings).
 * - console: a WebSocket GET on .../virtualmachineinstances/NAME/console with subprotocol
 *   plain.kubevirt.io, binary frames both ways; an HTTP 400 answer is retried every second up to
 *   --timeout minutes (KubeVirt answers 400 "VMI is not running" while a VMI starts); Ctrl-] at the
 *   start of a read, stdin EOF or SIGINT leave. Prints "Successfully connected to NAME console.
 *   Press Ctrl+] or Ctrl+5 to exit console." to stderr. KubeVirt keeps one serial console per VMI
 *   by closing the older connection when a new one comes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { bunvirtCommand, repoRoot } from "../lib/bunvirt.ts";
import { k8sBin } from "../lib/control-plane.ts";
import { runBounded, type Session, startSession } from "../lib/console-session.ts";
import { type Obj, until } from "../lib/e2e-cluster.ts";
import { controllerSelector, type Deployed, deployNamespace, startDeployed } from "../lib/e2e-deployed.ts";
import { targetSkip } from "../lib/e2e-target.ts";
import { built, hostTier } from "../lib/host.ts";
import { makeUserCert, type UserCert } from "../lib/user-cert.ts";
import { rawTlsRequest, type RawReply } from "../lib/raw-tls.ts";
import { virtctlPath } from "../lib/virtctl.ts";

const skip = process.env.BUNVIRT_E2E_KUBECONFIG ? "cluster subresources: starts its own node (BUNVIRT_E2E_KUBECONFIG is for e2e.test.ts)" : targetSkip("cluster subresources");
// scripts/test sets BUNVIRT_VIRTCTL_SKIP (the reason) when it could not build virtctl; then only its tests skip.
const virtctlSkip = skip ?? (process.env.BUNVIRT_VIRTCTL_SKIP || hostTier("cluster subresources: virtctl", [built(virtctlPath, "scripts/cluster/build-virtctl.sh, which scripts/test runs first")]));
if (skip === null && virtctlSkip !== null) console.warn(`virtctl tests skipped: ${virtctlSkip}`);

const ns = "default";
const vm = "power";
const group = "/apis/subresources.kubevirt.io/v1";

/** examples/vm-v1.yaml named `name`. */
function vmManifest(name: string): string {
  const v = parse(readFileSync(join(repoRoot, "examples/vm-v1.yaml"), "utf8")) as {
    metadata: { name: string; labels: Record<string, string> };
    spec: { template: { metadata: { labels: Record<string, string> } } };
  };
  v.metadata.name = name;
  v.metadata.labels = { "kubevirt.io/vm": name };
  v.spec.template.metadata.labels = { "kubevirt.io/vm": name };
  return JSON.stringify(v);
}

/**
 * A request straight to HOST:PORT over TLS (the server's certificate not checked) that claims to be
 * the admin through the front-proxy headers; what comes back until the server closes (or 10 s pass).
 */
function tlsRequest(host: string, port: number, client?: { cert: string; key: string }): Promise<RawReply> {
  const creds = client === undefined ? {} : { cert: readFileSync(client.cert), key: readFileSync(client.key) };
  return rawTlsRequest({ host, port, rejectUnauthorized: false, ...creds },
    `GET ${group} HTTP/1.1\r\nHost: ${host}\r\nX-Remote-User: admin\r\nX-Remote-Group: system:masters\r\nConnection: close\r\n\r\n`, 10_000);
}

describe.skipIf(skip !== null)("subresources.kubevirt.io through the API server: bunvirt's client and KubeVirt's virtctl", () => {
  let d: Deployed;
  let work: string;
  let limited: UserCert;
  let pluginPath: string;
  const figures: string[] = [];
  const kubectl = (args: string[], stdin?: string) => d.e.kubectl(args, stdin === undefined ? {} : { stdin });
  const kubectlOk = (args: string[], stdin?: string) => d.e.kubectlOk(args, stdin === undefined ? {} : { stdin });
  const why = async (): Promise<string> => `${(await kubectl(["get", "vm,vmi,pods", "-n", ns, "-o", "wide"])).stdout}\n${await d.logs()}`;

  const bunvirt = (args: string[], kubeconfig = d.kubeconfig) => runBounded([...bunvirtCommand(), ...args, "-n", ns, "--kubeconfig", kubeconfig], 120);
  const virtctl = (args: string[], kubeconfig = d.kubeconfig) => runBounded([virtctlPath, "--kubeconfig", kubeconfig, ...args, "-n", ns], 120);
  /** `kubectl virt ARGS`: kubectl finds the plugin kubectl-virt on PATH (kubectl takes no flag before a plugin's name: KUBECONFIG). */
  const kubectlVirt = (args: string[]) =>
    runBounded([join(k8sBin, "kubectl"), "virt", ...args, "-n", ns], 120, { ...process.env, PATH: `${pluginPath}:${process.env.PATH ?? ""}`, KUBECONFIG: d.kubeconfig });

  const vmi = (): Promise<Obj | null> => d.e.get("vmi", vm, ns);

  async function stopped(): Promise<void> {
    await until(`VM ${vm} Stopped and its VMI gone`, 300, async () => {
      const v = await d.e.get("vm", vm, ns);
      return v?.status?.printableStatus === "Stopped" && (await vmi()) === null ? true : null;
    }, why);
  }

  /** Waits for a Running VMI whose uid is not `old`; returns it. */
  async function running(old?: string): Promise<Obj> {
    return until(`VMI ${vm} Running${old === undefined ? "" : ` with a uid other than ${old}`}`, 600, async () => {
      const v = await vmi();
      return v !== null && v.status?.phase === "Running" && v.metadata.uid !== old && v.metadata.deletionTimestamp === undefined ? v : null;
    }, why);
  }

  /** Runs a power action and waits for its effect; records how long both took. */
  async function power(label: string, run: () => Promise<{ code: number | null; stdout: string; stderr: string }>, effect: () => Promise<unknown>): Promise<string> {
    const started = performance.now();
    const r = await run();
    if (r.code !== 0) throw new Error(`${label}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const answered = performance.now();
    await effect();
    figures.push(`${label}: answered in ${((answered - started) / 1000).toFixed(1)} s, done ${((performance.now() - started) / 1000).toFixed(1)} s after the command`);
    return r.stdout;
  }

  /**
   * Types `marker` and Enter until the guest's terminal echoes it whole. A guest still
   * booting (a VMI is Running once QEMU runs) loses what is typed before its serial
   * port is set up, as it would for a user, so the line is typed again every 3 s.
   */
  async function typeUntilEchoed(s: Session, marker: string): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      s.write(`${marker}\r`);
      try {
        await s.waitFor(marker, 3);
        return;
      } catch (err) {
        if (Date.now() > deadline || s.code !== null) throw err;
      }
    }
  }

  /** A console session: connected, a typed line comes back (the guest's tty echoes it), Ctrl-] leaves with exit 0. */
  async function consoleEcho(label: string, s: Session): Promise<void> {
    try {
      const started = performance.now();
      await s.waitFor(`Successfully connected to ${vm} console`, 90, "err");
      const connected = performance.now();
      const marker = `bunvirt-echo-${label}-${process.pid}`;
      await typeUntilEchoed(s, marker);
      figures.push(`${label} console: connected ${((connected - started) / 1000).toFixed(1)} s, echo ${((performance.now() - connected) / 1000).toFixed(1)} s later; the guest's boot lines ${s.out.includes("bunvirt-guest: booted") ? "seen" : "not seen (it had booted)"}`);
      await Bun.sleep(200);
      // Ctrl-] alone at the start of a read (virtctl looks only at a read's first byte).
      s.write(new Uint8Array([0x1d]));
      expect(await s.waitExit(15)).toBe(0);
    } finally {
      await s.stop();
    }
  }

  beforeAll(async () => {
    d = await startDeployed();
    work = mkdtempSync(join(tmpdir(), "bunvirt-subresources-"));
    pluginPath = join(work, "bin");
    await Bun.$`mkdir -p ${pluginPath}`.quiet();
    symlinkSync(bunvirtCommand()[0]!, join(pluginPath, "kubectl-virt"));
    limited = makeUserCert(d.e.cluster.controlPlane.pki, work, "limited", d.kubeconfig);
    await kubectlOk(["apply", "-n", ns, "-f", "-"], vmManifest(vm));
    await running();
  }, 1_200_000);

  afterAll(async () => {
    if (figures.length > 0) console.log(`subresource figures:\n  ${figures.join("\n  ")}`);
    await d?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  }, 600_000);

  test("kubectl get --raw /apis/subresources.kubevirt.io/v1 lists start, stop, restart and console", async () => {
    const list = await until("the aggregated API's discovery", 180, async () => {
      const r = await kubectl(["get", "--raw", group]);
      return r.code === 0 ? (JSON.parse(r.stdout) as { kind: string; groupVersion: string; resources: { name: string }[] }) : null;
    }, async () => `${(await kubectl(["get", "apiservice", "v1.subresources.kubevirt.io", "-o", "yaml"])).stdout}\n${await d.logs()}`);
    expect(list.kind).toBe("APIResourceList");
    expect(list.groupVersion).toBe("subresources.kubevirt.io/v1");
    const names = list.resources.map((r) => r.name);
    for (const n of ["virtualmachines/start", "virtualmachines/stop", "virtualmachines/restart", "virtualmachineinstances/console"]) expect(names).toContain(n);
  }, 300_000);

  test("bunvirt's client: stop, start (as `kubectl virt`), start again refused, restart", async () => {
    const stop = await power("bunvirt stop", () => bunvirt(["stop", vm]), stopped);
    expect(stop).toContain(`VM ${vm} was scheduled to stop`);
    const start = await power("kubectl virt start", () => kubectlVirt(["start", vm]), () => running());
    expect(start).toContain(`VM ${vm} was scheduled to start`);
    const again = await bunvirt(["start", vm]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("VM is already running");
    const before = (await vmi())!.metadata.uid;
    const restart = await power("bunvirt restart", () => bunvirt(["restart", vm]), () => running(before));
    expect(restart).toContain(`VM ${vm} was scheduled to restart`);
  }, 1_500_000);

  test("bunvirt's client: console shows what the guest sends back for a typed line; Ctrl-] leaves", async () => {
    await running();
    await consoleEcho("bunvirt", startSession([...bunvirtCommand(), "console", vm, "-n", ns, "--kubeconfig", d.kubeconfig]));
  }, 300_000);

  test.skipIf(virtctlSkip !== null)("virtctl v1.6.0: version answers from the controller", async () => {
    const r = await virtctl(["version"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Client Version: version.Info{GitVersion:"v1.6.0"');
    expect(r.stdout).toContain("Server Version: version.Info{GitVersion:");
    console.log(r.stdout.trim());
  }, 180_000);

  test.skipIf(virtctlSkip !== null)("virtctl v1.6.0: stop, start, restart, console", async () => {
    const stop = await power("virtctl stop", () => virtctl(["stop", vm]), stopped);
    expect(stop).toContain(`VM ${vm} was scheduled to stop`);
    const notRunning = await virtctl(["stop", vm]);
    expect(notRunning.code).toBe(1);
    expect(notRunning.stderr).toContain("VM is not running");
    await power("virtctl start", () => virtctl(["start", vm]), () => running());
    const before = (await vmi())!.metadata.uid;
    await power("virtctl restart", () => virtctl(["restart", vm]), () => running(before));
    // No TTY: virtctl then copies the pipe as it comes (it makes stdin raw only on a terminal).
    await consoleEcho("virtctl", startSession([virtctlPath, "--kubeconfig", d.kubeconfig, "console", vm, "-n", ns, "--timeout", "2"]));
  }, 1_800_000);

  test("a user whose Role has virtualmachines/start but not /stop: 403 on stop from both clients, start authorized", async () => {
    await running();
    const before = (await vmi())!.metadata.uid;
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({
      apiVersion: "v1", kind: "List", items: [
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "vm-start-only", namespace: ns },
          rules: [
            { apiGroups: ["kubevirt.io"], resources: ["virtualmachines", "virtualmachineinstances"], verbs: ["get", "list"] },
            { apiGroups: ["subresources.kubevirt.io"], resources: ["virtualmachines/start"], verbs: ["update"] },
          ] },
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "limited-vm-start-only", namespace: ns },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "vm-start-only" },
          subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "limited" }] },
      ],
    }));
    const denied = 'cannot update resource "virtualmachines/stop" in API group "subresources.kubevirt.io"';
    const own = await bunvirt(["stop", vm], limited.kubeconfig);
    expect(own.code).not.toBe(0);
    expect(own.stderr).toContain('User "limited"');
    expect(own.stderr).toContain(denied);
    if (virtctlSkip === null) {
      const theirs = await virtctl(["stop", vm], limited.kubeconfig);
      expect(theirs.code).toBe(1);
      expect(theirs.stderr).toContain(denied);
    }
    // Start is granted: it reaches the controller, which refuses it for the running VM.
    const start = await bunvirt(["start", vm], limited.kubeconfig);
    expect(start.code).not.toBe(0);
    expect(start.stderr).toContain("VM is already running");
    const v = await vmi();
    expect(v?.metadata.uid).toBe(before);
    expect(v?.status?.phase).toBe("Running");
  }, 300_000);

  test("the controller's port from the host: nothing without the API server's front-proxy certificate", async () => {
    const pods = (JSON.parse(await kubectlOk(["get", "pods", "-n", deployNamespace, "-l", controllerSelector, "-o", "json"])) as { items: (Obj & { status: { podIP?: string } })[] }).items;
    expect(pods.length).toBeGreaterThan(0);
    const pki = d.e.cluster.controlPlane.pki;
    for (const p of pods) {
      const ip = p.status.podIP!;
      // The control: the API server's own client certificate is served (the port is live).
      const proxy = await tlsRequest(ip, 8444, { cert: join(pki, "front-proxy-client.crt"), key: join(pki, "front-proxy-client.key") });
      expect(proxy.bytes).toBeGreaterThan(0);
      const none = await tlsRequest(ip, 8444);
      const user = await tlsRequest(ip, 8444, limited);
      console.log(`${p.metadata.name} ${ip}:8444: front-proxy cert ${proxy.bytes} bytes; no cert ${none.bytes} bytes (${none.ended}); CN=limited ${user.bytes} bytes (${user.ended})`);
      expect(none.bytes).toBe(0);
      expect(user.bytes).toBe(0);
    }
  }, 120_000);

  test("one console per VMI: a second one takes over and the first is closed, as KubeVirt's handler does", async () => {
    await running();
    const argv = [...bunvirtCommand(), "console", vm, "-n", ns, "--kubeconfig", d.kubeconfig];
    const first = startSession(argv);
    let second: Session | undefined;
    try {
      await first.waitFor(`Successfully connected to ${vm} console`, 90, "err");
      second = startSession(argv);
      const s = second;
      await s.waitFor(`Successfully connected to ${vm} console`, 60, "err");
      await until("the first console closed", 30, async () => (first.code !== null ? true : null));
      console.log(`first console after the takeover: exit ${first.code}, stderr ${JSON.stringify(first.err.slice(-300))}`);
      expect(s.code).toBeNull();
      const survivor = s;
      // The one left is live: a typed line comes back.
      await typeUntilEchoed(survivor, `bunvirt-echo-survivor-${process.pid}`);
    } finally {
      await first.stop();
      await second?.stop();
    }
  }, 300_000);
});

