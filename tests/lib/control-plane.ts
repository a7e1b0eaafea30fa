/**
 * A real Kubernetes control plane for the control-plane tier
 * (tests/control-plane): etcd and kube-apiserver (v1.34.4, built by
 * scripts/cluster/build-k8s.sh), optionally kube-scheduler and
 * kube-controller-manager, bound to
 * 127.0.0.1 on free ports, their data and PKI in a temp dir, the generated
 * CRDs applied, optionally an audit log of the writes to VMs, VMIs and pods. `stop()` kills the processes and removes the dir. No node:
 * pods stay Pending (Unschedulable with the scheduler).
 *
 * A test file calls `controlPlaneTier()` to gate itself, starts one control
 * plane in beforeAll and stops it in afterAll.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, repoRoot, type RunResult } from "./bunvirt.ts";
import { built, command, hostTier } from "./host.ts";

export const k8sVersion = "v1.34.4";
export const k8sBin = process.env.BUNVIRT_K8S_BIN ?? `/var/cache/bunvirt/k8s-${k8sVersion}/bin`;
/** The API server's --service-cluster-ip-range (ClusterIPs; the `kubernetes` Service is its first address). */
export const serviceSubnet = "10.96.0.0/16";

/** Null when the tier can run here, else the reason to skip (a failure under BUNVIRT_REQUIRE_HOST=1). */
export function controlPlaneTier(suite: string): string | null {
  const by = "built by scripts/cluster/build-k8s.sh, which scripts/test runs first";
  return hostTier(suite, [
    built(join(k8sBin, "kube-apiserver"), by),
    built(join(k8sBin, "kubectl"), by),
    command("etcd", "etcd-server"),
    command("openssl", "openssl"),
  ]);
}

export interface ControlPlane {
  /** The temp dir holding PKI, data and logs. */
  dir: string;
  /** https://127.0.0.1:PORT */
  server: string;
  /** PKI dir (scripts/cluster/pki.sh): ca.crt, admin.kubeconfig, … */
  pki: string;
  /** A kubeconfig with the admin client certificate (system:masters) and the CA file. */
  adminKubeconfig: string;
  /** Process ids of etcd, kube-apiserver and (when started) kube-scheduler, kube-controller-manager. */
  pids: number[];
  /** Seconds from starting kube-apiserver until /readyz answered ok. */
  apiserverReadySeconds: number;
  /** The audit log (JSON lines, one event per request) when started with `audit: true`. */
  auditLog?: string;
  /** Runs kubectl with the admin kubeconfig. */
  kubectl(args: string[], opts?: { stdin?: string }): Promise<RunResult>;
  /** Like kubectl, but throws with its stderr unless it exits 0; returns stdout. */
  kubectlOk(args: string[], opts?: { stdin?: string }): Promise<string>;
  /** `kubectl get KIND NAME -o json` in `namespace` (null: cluster-scoped), parsed; null when NotFound. */
  getJson<T>(kind: string, name: string, namespace: string | null): Promise<T | null>;
  /** Kills the processes and removes the dir. */
  stop(): Promise<void>;
}

async function run(argv: string[], stdin?: string): Promise<RunResult> {
  const p = Bun.spawn(argv, {
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

function tail(path: string, lines = 20): string {
  if (!existsSync(path)) return "";
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/** Polls `probe` until it returns true; throws when `proc` exits first or after `seconds`. */
async function waitUntil(what: string, seconds: number, proc: Bun.Subprocess, log: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`Cannot start ${what}: it exited (${proc.exitCode ?? proc.signalCode}):\n${tail(log)}`);
    }
    if (Date.now() > deadline) throw new Error(`Cannot start ${what}: not ready after ${seconds} s:\n${tail(log)}`);
    await Bun.sleep(100);
  }
}

export interface ControlPlaneOptions {
  /** Also run kube-scheduler (with the kube-scheduler client certificate). */
  scheduler?: boolean;
  /**
   * Also run kube-controller-manager (one instance, no leader election): every
   * default controller but the cloud's and node IPAM (the node's pod subnet is
   * fixed by its CNI config), each with its own ServiceAccount's credentials,
   * the service-account token signer, the root CA published to every namespace
   * (kube-root-ca.crt), CSR signing by the cluster CA.
   */
  controllerManager?: boolean;
  /**
   * The address kube-apiserver binds to (default 127.0.0.1); the cluster tier
   * passes the host end of the node's veth (tests/lib/cluster-node.ts) so the
   * kubelet in its own network namespace reaches it. Must be in the serving
   * certificate (scripts/cluster/pki.sh: 127.0.0.1, 10.250.0.1).
   */
  bindAddress?: string;
  /**
   * Turn on the API server's audit log (`auditPolicy`): one JSON line per
   * write (create, update, patch, delete) to VMs, VMIs, pods and their
   * subresources, at Metadata level (who, what, when; no bodies).
   */
  audit?: boolean;
}

/** The audit policy of `audit: true`: writes to the objects a VM's start touches, nothing else. */
export const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete]
    resources:
      - group: kubevirt.io
        resources: [virtualmachines, virtualmachines/status, virtualmachineinstances, virtualmachineinstances/status]
      - group: ""
        resources: [pods, pods/status, pods/binding]
  - level: None
`;

/** The fields of an audit.k8s.io/v1 Event the benches read. */
export interface AuditEvent {
  verb: string;
  user: { username: string };
  impersonatedUser?: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string; apiGroup?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

/** The events of an audit log, in the order written. */
export function readAuditLog(path: string): AuditEvent[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as AuditEvent);
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-control-plane-"));
  const procs: Bun.Subprocess[] = [];
  const stop = async (): Promise<void> => {
    // The API server first, so it does not log etcd's absence; then etcd.
    for (const p of procs.reverse()) {
      p.kill("SIGTERM");
      const ended = await Promise.race([p.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
      if (!ended) {
        p.kill("SIGKILL");
        await p.exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const spawn = (argv: string[], log: string): Bun.Subprocess => {
    // etcd and the Kubernetes components log to stderr.
    const p = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: Bun.file(log) });
    procs.push(p);
    return p;
  };
  try {
    const [etcdPort, etcdPeerPort, apiPort] = [freePort(), freePort(), freePort()];
    const bind = opts.bindAddress ?? "127.0.0.1";
    const server = `https://${bind}:${apiPort}`;
    const pki = join(dir, "pki");
    const made = await run([join(repoRoot, "scripts/cluster/pki.sh"), pki, server]);
    if (made.code !== 0) throw new Error(`Cannot make the cluster PKI: ${made.stderr}`);

    const etcdLog = join(dir, "etcd.log");
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = spawn(
      [
        "etcd",
        "--name=bunvirt-test",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=bunvirt-test=http://127.0.0.1:${etcdPeerPort}`,
      ],
      etcdLog,
    );
    await waitUntil("etcd", 60, etcd, etcdLog, async () => ((await (await fetch(`${etcdUrl}/health`)).json()) as { health?: string }).health === "true");

    const apiLog = join(dir, "kube-apiserver.log");
    const auditLog = join(dir, "audit.log");
    const audit: string[] = [];
    if (opts.audit === true) {
      const policy = join(dir, "audit-policy.yaml");
      writeFileSync(policy, auditPolicy);
      // Blocking mode: each event is on disk when its request has been answered.
      audit.push(`--audit-policy-file=${policy}`, `--audit-log-path=${auditLog}`, "--audit-log-format=json", "--audit-log-mode=blocking", "--audit-log-maxsize=0");
    }
    const started = performance.now();
    const apiserver = spawn(
      [
        join(k8sBin, "kube-apiserver"),
        `--etcd-servers=${etcdUrl}`,
        `--bind-address=${bind}`,
        `--advertise-address=${bind}`,
        `--secure-port=${apiPort}`,
        `--tls-cert-file=${pki}/apiserver.crt`,
        `--tls-private-key-file=${pki}/apiserver.key`,
        `--client-ca-file=${pki}/ca.crt`,
        // Every request must authenticate: a client that drops its credentials gets 401, not a quiet anonymous answer.
        "--anonymous-auth=false",
        "--authorization-mode=Node,RBAC",
        `--service-account-key-file=${pki}/sa.pub`,
        `--service-account-signing-key-file=${pki}/sa.key`,
        "--service-account-issuer=https://kubernetes.default.svc",
        `--service-cluster-ip-range=${serviceSubnet}`,
        // On loopback, no `kubernetes` Service endpoints (an endpoint may not be a loopback address);
        // elsewhere (the cluster tier's node) pods reach the API server through that Service.
        `--endpoint-reconciler-type=${bind.startsWith("127.") ? "none" : "lease"}`,
        // Webhook Services and APIServices are reached at their endpoints' pod IPs, not through a ClusterIP.
        "--enable-aggregator-routing=true",
        // The API server's identity towards aggregated APIs, and the headers it sends them.
        `--proxy-client-cert-file=${pki}/front-proxy-client.crt`,
        `--proxy-client-key-file=${pki}/front-proxy-client.key`,
        `--requestheader-client-ca-file=${pki}/ca.crt`,
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        `--kubelet-client-certificate=${pki}/apiserver-kubelet-client.crt`,
        `--kubelet-client-key=${pki}/apiserver-kubelet-client.key`,
        // Reach a kubelet (logs, exec) at its node IP, not by its hostname through the host's resolver.
        "--kubelet-preferred-address-types=InternalIP",
        "--allow-privileged=true",
        "--profiling=false",
        ...audit,
      ],
      apiLog,
    );
    const tls = { ca: readFileSync(`${pki}/ca.crt`), cert: readFileSync(`${pki}/admin.crt`), key: readFileSync(`${pki}/admin.key`) };
    await waitUntil("kube-apiserver", 120, apiserver, apiLog, async () => (await (await fetch(`${server}/readyz`, { tls })).text()) === "ok");
    const apiserverReadySeconds = (performance.now() - started) / 1000;

    const adminKubeconfig = join(pki, "admin.kubeconfig");
    const kubectl = (args: string[], opts: { stdin?: string } = {}): Promise<RunResult> =>
      run([join(k8sBin, "kubectl"), `--kubeconfig=${adminKubeconfig}`, ...args], opts.stdin);
    const kubectlOk = async (args: string[], opts: { stdin?: string } = {}): Promise<string> => {
      const r = await kubectl(args, opts);
      if (r.code !== 0) throw new Error(`Cannot run "kubectl ${args.join(" ")}": exit ${r.code}: ${r.stderr.trim()}`);
      return r.stdout;
    };
    const getJson = async <T>(kind: string, name: string, namespace: string | null): Promise<T | null> => {
      const r = await kubectl(["get", kind, name, ...(namespace === null ? [] : ["-n", namespace]), "-o", "json"]);
      if (r.code !== 0) {
        if (r.stderr.includes("NotFound")) return null;
        throw new Error(`kubectl get ${kind} ${name}: ${r.stderr}`);
      }
      return JSON.parse(r.stdout) as T;
    };
    await kubectlOk(["apply", "-k", join(repoRoot, "deploy/kustomize/base/crds")]);

    // The scheduler and kube-controller-manager: their own kubeconfig, a secure port on 127.0.0.1, no
    // leader election; their serving certificates are self-signed, and the probed path is open to anyone.
    const startComponent = async (name: string, probe: string, flags: string[]): Promise<void> => {
      const log = join(dir, `${name}.log`);
      const port = freePort();
      const kubeconfig = join(pki, `${name}.kubeconfig`);
      const proc = spawn(
        [
          join(k8sBin, name),
          `--kubeconfig=${kubeconfig}`,
          `--authentication-kubeconfig=${kubeconfig}`,
          `--authorization-kubeconfig=${kubeconfig}`,
          "--bind-address=127.0.0.1",
          `--secure-port=${port}`,
          "--leader-elect=false",
          "--profiling=false",
          ...flags,
        ],
        log,
      );
      const insecure = { rejectUnauthorized: false };
      await waitUntil(name, 60, proc, log, async () => (await (await fetch(`https://127.0.0.1:${port}${probe}`, { tls: insecure })).text()) === "ok");
    };
    if (opts.scheduler === true) await startComponent("kube-scheduler", "/readyz", []);
    if (opts.controllerManager === true) {
      await startComponent("kube-controller-manager", "/healthz", [
        // No cloud; the node's pod subnet comes from its CNI config, not from node IPAM.
        "--controllers=*,-node-ipam-controller,-service-lb-controller,-node-route-controller,-cloud-node-lifecycle-controller",
        "--use-service-account-credentials=true",
        `--service-account-private-key-file=${pki}/sa.key`,
        `--root-ca-file=${pki}/ca.crt`,
        `--cluster-signing-cert-file=${pki}/ca.crt`,
        `--cluster-signing-key-file=${pki}/ca.key`,
        `--service-cluster-ip-range=${serviceSubnet}`,
      ]);
    }
    return {
      dir, server, pki, adminKubeconfig, pids: procs.map((p) => p.pid), apiserverReadySeconds, kubectl, kubectlOk, getJson, stop,
      ...(opts.audit === true ? { auditLog } : {}),
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
