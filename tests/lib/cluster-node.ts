/**
 * A real single-node Kubernetes for the cluster tier (tests/cluster): the
 * control plane of tests/lib/control-plane.ts (etcd, kube-apiserver,
 * kube-scheduler, kube-controller-manager) plus one node, containerd 1.6 +
 * runc + the CNI bridge plugin, the kubelet and kube-proxy (v1.34.4), all in
 * network and mount namespaces this harness makes, torn down with nothing
 * left. Enough of a cluster for `kubectl apply -k` of bunvirt's deployment:
 * Deployments, DaemonSets, ClusterIP Services, ServiceAccount tokens.
 *
 * Layout, and why:
 * - The kubelet refuses a loopback node IP, and traffic may only go to
 *   127.0.0.0/8 or namespaces a test makes. So the node lives in its own
 *   network + mount namespace (scripts/cluster/node-namespace.sh under
 *   `unshare --net --mount --propagation private`) with a veth pair to the
 *   host: host end `bvnode0` 10.250.0.1/24, node end `eth0` 10.250.0.2. No
 *   default route anywhere: the node and its pods reach nothing but the host
 *   end. The node has a route for the Service subnet (10.96.0.0/16) on eth0
 *   so its own connections to ClusterIPs (hostNetwork pods) get to
 *   kube-proxy's DNAT; nothing un-rewritten leaves that way (no neighbour
 *   answers for those addresses).
 * - Pods (10.244.0.0/24 on the node's cni0 bridge) and the host reach each
 *   other through the node: IPv4 forwarding is on in the node's network
 *   namespace only, and the host has a route to the pod subnet via
 *   10.250.0.2 on bvnode0 (it goes with the link). So the API server reaches
 *   pod IPs (webhooks, aggregated APIs: `--enable-aggregator-routing`, pod
 *   proxy), and pods reach the host end (the guest registry of
 *   tests/lib/e2e-cluster.ts listens there). The host itself forwards
 *   nothing.
 * - kube-apiserver binds to the host end (10.250.0.1, in the serving
 *   certificate), so the kubelet reaches it from the node's namespace and the
 *   test (host namespace) reaches it locally; it reaches the kubelet at the
 *   node IP. It keeps the `kubernetes` Service's endpoints (10.96.0.1:443 ->
 *   10.250.0.1:PORT), so pods reach it through that Service. etcd, the
 *   scheduler and kube-controller-manager are host processes on 127.0.0.1.
 * - kube-controller-manager runs every default controller but node IPAM and
 *   the cloud's (the pod subnet is fixed by the CNI config): its node
 *   lifecycle controller lifts the kubelet's not-ready taint, the
 *   ServiceAccount and root-CA publishers give every namespace its `default`
 *   ServiceAccount and kube-root-ca.crt, so pods get projected tokens.
 * - containerd, the kubelet and kube-proxy run in the node's namespaces
 *   (nsenter), with a private /run (runc state, pod network namespaces) and
 *   /var/lib, /var/log bound to <dir>/var-lib, <dir>/var-log, and the
 *   sysctls the kubelet sets covered inside, so the host's are untouched.
 *   The kubelet's root dir is /var/lib/kubelet inside (so hostPaths of a
 *   deployed DaemonSet, /var/lib/kubelet/pods and /var/lib/kubelet/
 *   device-plugins, mean what they mean on any node); the host sees it at
 *   <dir>/var-lib/kubelet (`kubeletDir`, for host-process handlers). Mounts
 *   in the node's namespace are shared among themselves (not with the host),
 *   so HostToContainer propagation works. Config, state and sockets live in
 *   the harness's dir, which the host sees too (ctr reaches the socket).
 * - kube-proxy in nftables mode, its rules in the node's network namespace;
 *   `masqueradeAll` so replies from a pod on the same bridge go back through
 *   the node, where the Service's DNAT is undone; conntrack settings at 0 so
 *   it leaves the host-wide conntrack sysctls alone.
 * - This machine: no CAP_SYS_RESOURCE, so containerd's CRI runs with
 *   `restrict_oom_score_adj` and the kubelet and kube-proxy with
 *   `oomScoreAdj: 0`; cgroup v1, so `failCgroupV1: false`, `cgroupDriver:
 *   cgroupfs`.
 *
 * stop(): deletes every workload controller (orphaning) and every pod, stops
 * kube-proxy, the kubelet and containerd, kills whatever is left in the
 * node's mount namespace (shims, containers), releases the namespace holder
 * (its namespaces, their nftables rules, the veth pair and the host's route
 * go with it), removes the kubelet's `kubepods` cgroups, stops the control
 * plane, removes the dir.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot, type RunResult } from "./bunvirt.ts";
import { type ControlPlane, k8sBin, serviceSubnet, startControlPlane } from "./control-plane.ts";
import { built, command, hostTier, root } from "./host.ts";
import { cniConfig, containerdConfig, kubeletConfig, kubeProxyConfig } from "./node-config.ts";
import { kill, kubepodsCgroups, kubepodsProcesses, nsOf, processesIn, removeCgroupTree } from "./node-leftovers.ts";

export { kubepodsCgroups, processesIn };

export const nodeName = "bunvirt-node";
export const hostAddress = "10.250.0.1";
export const nodeAddress = "10.250.0.2";
export const hostLink = "bvnode0";
export const podSubnet = "10.244.0.0/24";
/** The kubelet's --root-dir as processes in the node's mount namespace (and pods' hostPaths) see it; the host sees `ClusterNode.kubeletDir`. */
export const kubeletRootInNode = "/var/lib/kubelet";
/** The API server's `kubernetes` Service (first address of --service-cluster-ip-range). */
export const kubernetesServiceIP = "10.96.0.1";
const cniBin = "/usr/lib/cni";

/** Null when the cluster tier can run here, else the reason to skip (a failure under BUNVIRT_REQUIRE_HOST=1). */
export function clusterTier(suite: string): string | null {
  const k8s = "built by scripts/cluster/build-k8s.sh, which scripts/test runs first";
  return hostTier(suite, [
    root,
    ...["kube-apiserver", "kubectl", "kube-scheduler", "kube-controller-manager", "kubelet", "kube-proxy"].map((c) => built(join(k8sBin, c), k8s)),
    command("etcd", "etcd-server"),
    command("openssl", "openssl"),
    command("containerd", "containerd"),
    command("ctr", "containerd"),
    command("runc", "runc"),
    built(join(cniBin, "bridge"), "Debian package containernetworking-plugins, installed by scripts/cluster/setup-node.sh"),
    command("unshare", "util-linux"),
    command("nsenter", "util-linux"),
    command("ip", "iproute2"),
    command("nft", "nftables"),
    command("curl", "curl"),
    command("umoci", "umoci"),
    command("skopeo", "skopeo"),
    command("gcc", "gcc"),
  ]);
}

export interface ClusterNode {
  /** The harness's dir: config, state, logs (containerd.log, kubelet.log). */
  dir: string;
  name: string;
  /** The namespace holder's pid; `nsenter -t PID -n -m` enters the node. */
  holderPid: number;
  /** Inodes of the node's namespaces ("net:[…]", "mnt:[…]"). */
  namespaces: { net: string; mnt: string };
  /** The kubelet's root dir (pods/<uid>/volumes/…, device-plugins/) as the host sees it: `<dir>/var-lib/kubelet`, /var/lib/kubelet inside the node. */
  kubeletDir: string;
  /**
   * Seconds from the harness's start until the node could take work: Node
   * Ready without taints, the `default` ServiceAccount and the kube-root-ca.crt
   * ConfigMap in namespace default, kube-proxy's rules synced.
   */
  readySeconds: number;
  /** Process ids of the node's containerd, kubelet and kube-proxy (in the node's namespaces). */
  pids: { containerd: number; kubelet: number; kubeProxy: number };
  /** Runs a command in the node's network and mount namespaces (as the kubelet sees the world). */
  exec(argv: string[]): Promise<RunResult>;
  /** Runs ctr against the node's containerd, in its k8s.io namespace. */
  ctr(args: string[]): Promise<RunResult>;
  /** Loads a docker-archive into the node's containerd (`ctr images import`). */
  importImage(tar: string): Promise<void>;
}

export interface Cluster {
  controlPlane: ControlPlane;
  node: ClusterNode;
  /** Tears everything down; safe to call once. */
  stop(): Promise<void>;
}

async function run(argv: string[]): Promise<RunResult> {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

async function must(argv: string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`Cannot run "${argv.join(" ")}": exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

function tail(path: string, lines = 30): string {
  if (!existsSync(path)) return "";
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

async function waitFor(what: string, seconds: number, log: string, probe: () => Promise<boolean>, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (!alive()) throw new Error(`Cannot start ${what}: it exited:\n${tail(log)}`);
    if (Date.now() > deadline) throw new Error(`Cannot start ${what}: not ready after ${seconds} s:\n${tail(log)}`);
    await Bun.sleep(200);
  }
}

export interface ClusterOptions {
  /** docker-archives to import into the node's containerd before the kubelet starts (the pause image must be among them). */
  images: string[];
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  // Refuse before touching anything: stop() would otherwise clean up what another node owns.
  if (kubepodsCgroups().length > 0) {
    throw new Error(`Cannot start the node: kubepods cgroups exist already (${kubepodsCgroups().join(", ")}): another kubelet runs here, or a crashed run left them`);
  }
  if ((await run(["ip", "link", "show", "dev", hostLink])).code === 0) {
    throw new Error(`Cannot start the node: the host already has a link "${hostLink}" (a node still running, or left by a crashed run: ip link del ${hostLink})`);
  }
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-node-"));
  const procs: Bun.Subprocess[] = [];
  let holder: Bun.Subprocess<"pipe", "pipe", "pipe"> | null = null;
  let holderPid = -1;
  let controlPlane: ControlPlane | null = null;
  let namespaces: { net: string; mnt: string } | null = null;
  let kubectl: ((args: string[]) => Promise<RunResult>) | null = null;
  let stopped = false;

  const stopProcess = async (p: Bun.Subprocess, graceMs: number): Promise<void> => {
    p.kill("SIGTERM");
    const ended = await Promise.race([p.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
    if (!ended) {
      p.kill("SIGKILL");
      await p.exited;
    }
  };

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const problems: string[] = [];
    // Pods first, while the kubelet and containerd still run: their containers, mounts and cgroups go the normal way.
    // Workload controllers first (their pods orphaned), or kube-controller-manager would replace the deleted pods.
    if (kubectl !== null && procs.length >= 2) {
      const workloads = "daemonsets,deployments,replicasets,statefulsets,jobs,cronjobs,replicationcontrollers";
      await kubectl(["delete", workloads, "--all", "--all-namespaces", "--cascade=orphan", "--wait=true", "--timeout=30s"]);
      await kubectl(["delete", "pods", "--all", "--all-namespaces", "--grace-period=5", "--wait=true", "--timeout=60s"]);
    }
    for (const p of procs.reverse()) await stopProcess(p, 10_000);
    if (namespaces !== null) {
      // Shims and containers that outlived containerd.
      for (const pid of processesIn(namespaces.mnt, holderPid)) kill(pid);
      const deadline = Date.now() + 10_000;
      while (processesIn(namespaces.mnt, holderPid).length > 0 && Date.now() < deadline) await Bun.sleep(100);
    }
    // Containers whose pods did not go (their own mount namespaces): found by the kubelet's cgroups.
    for (let i = 0; i < 50 && kubepodsProcesses().length > 0; i++) {
      for (const pid of kubepodsProcesses()) kill(pid);
      await Bun.sleep(100);
    }
    if (holder !== null) {
      // EOF on its stdin ends the holder (after it has ended what is left in its namespace, up to 10 s);
      // the namespaces, their mounts and the veth pair go with it.
      holder.stdin.end();
      const h = holder;
      const ended = await Promise.race([h.exited.then(() => true), Bun.sleep(15_000).then(() => false)]);
      if (!ended) {
        problems.push(`the namespace holder ${holderPid} did not end on EOF`);
        kill(h.pid);
        await h.exited;
      }
    }
    for (const c of kubepodsCgroups()) removeCgroupTree(c);
    const left = kubepodsCgroups();
    if (left.length > 0) problems.push(`cgroups remain: ${left.join(", ")}`);
    if (controlPlane !== null) await controlPlane.stop();
    rmSync(dir, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`Cannot tear the node down cleanly: ${problems.join("; ")}`);
  };

  try {
    for (const d of ["containerd", "cni/net.d", "cni/ipam", "pod-logs"]) mkdirSync(join(dir, d), { recursive: true });

    // 1. The namespaces and the veth pair.
    // No --fork: unshare execs the holder, so nothing but the holder sits in the namespace from the start.
    holder = Bun.spawn(["unshare", "--net", "--mount", "--propagation", "private", join(repoRoot, "scripts/cluster/node-namespace.sh"), dir], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const reader = holder.stdout.getReader();
    const first = await Promise.race([reader.read(), Bun.sleep(30_000).then(() => null)]);
    reader.releaseLock();
    const m = first?.value === undefined ? null : /bunvirt-node-ready (\d+)/.exec(new TextDecoder().decode(first.value));
    if (m === null) {
      holder.kill("SIGKILL");
      throw new Error(`Cannot prepare the node namespace: ${await new Response(holder.stderr).text()}`);
    }
    holderPid = Number(m[1]);
    const net = nsOf(holderPid, "net");
    const mnt = nsOf(holderPid, "mnt");
    if (net === null || mnt === null) throw new Error(`Cannot read the node's namespaces: holder ${holderPid} is gone`);
    namespaces = { net, mnt };
    const inNode = (argv: string[]): string[] => ["nsenter", "-t", String(holderPid), "-n", "-m", "--", ...argv];
    await must(["ip", "link", "add", hostLink, "type", "veth", "peer", "name", "eth0", "netns", String(holderPid)]);
    await must(["ip", "addr", "add", `${hostAddress}/24`, "dev", hostLink]);
    await must(["ip", "link", "set", hostLink, "up"]);
    await must(inNode(["ip", "addr", "add", `${nodeAddress}/24`, "dev", "eth0"]));
    await must(inNode(["ip", "link", "set", "eth0", "up"]));
    // The node's own connections to ClusterIPs (hostNetwork pods: in-cluster clients) need a route for kube-proxy's DNAT
    // to act on; on the link, not via the host: what no rule rewrites finds no neighbour and goes nowhere.
    await must(inNode(["ip", "route", "add", serviceSubnet, "dev", "eth0"]));
    // The host reaches pod IPs (the API server: webhooks, proxy, exec) through the node; the route goes with the link.
    await must(["ip", "route", "add", podSubnet, "via", nodeAddress, "dev", hostLink]);

    // 2. The control plane, its API server on the host end of the veth.
    controlPlane = await startControlPlane({ scheduler: true, controllerManager: true, bindAddress: hostAddress });
    const cp = controlPlane;
    kubectl = (args) => cp.kubectl(args);
    const pki = cp.pki;
    await must([join(repoRoot, "scripts/cluster/node-pki.sh"), pki, nodeName, nodeAddress, cp.server]);

    // 3. containerd, and the images.
    writeFileSync(join(dir, "containerd.toml"), containerdConfig(dir, cniBin));
    writeFileSync(join(dir, "cni/net.d/10-bridge.conflist"), cniConfig(dir, podSubnet));
    writeFileSync(join(dir, "resolv.conf"), "nameserver 10.96.0.10\n");
    writeFileSync(join(dir, "kubelet.yaml"), kubeletConfig(dir, pki, nodeAddress));
    writeFileSync(join(dir, "kube-proxy.yaml"), kubeProxyConfig(join(pki, "kube-proxy.kubeconfig"), nodeName, podSubnet, nodeAddress));
    const spawn = (argv: string[], log: string): Bun.Subprocess => {
      const p = Bun.spawn(inNode(argv), { stdin: "ignore", stdout: "ignore", stderr: Bun.file(log) });
      procs.push(p);
      return p;
    };
    const alive = (p: Bun.Subprocess) => () => p.exitCode === null && p.signalCode === null;
    const containerdLog = join(dir, "containerd.log");
    const containerd = spawn(["containerd", "--config", join(dir, "containerd.toml")], containerdLog);
    const sock = join(dir, "containerd/containerd.sock");
    const ctr = (args: string[]): Promise<RunResult> => run(["ctr", "--address", sock, "--namespace", "k8s.io", ...args]);
    await waitFor("containerd", 60, containerdLog, async () => (await ctr(["version"])).code === 0, alive(containerd));
    const importImage = async (tar: string): Promise<void> => {
      const r = await ctr(["images", "import", tar]);
      if (r.code !== 0) throw new Error(`Cannot import "${tar}" into the node's containerd: ${r.stderr.trim()}`);
    };
    for (const tar of opts.images) await importImage(tar);

    // 4. The kubelet and kube-proxy; wait until the Node is Ready and can take pods.
    const kubeletLog = join(dir, "kubelet.log");
    const kubeletDir = join(dir, "var-lib/kubelet"); // the node's /var/lib is <dir>/var-lib
    const kubelet = spawn(
      [
        join(k8sBin, "kubelet"),
        `--config=${join(dir, "kubelet.yaml")}`,
        `--kubeconfig=${join(pki, "kubelet.kubeconfig")}`,
        `--root-dir=${kubeletRootInNode}`,
        `--hostname-override=${nodeName}`,
        `--node-ip=${nodeAddress}`,
        "--v=1",
      ],
      kubeletLog,
    );
    const kubeProxyLog = join(dir, "kube-proxy.log");
    const kubeProxy = spawn([join(k8sBin, "kube-proxy"), `--config=${join(dir, "kube-proxy.yaml")}`, "--v=1"], kubeProxyLog);
    await waitFor(
      "kubelet (node Ready)",
      120,
      kubeletLog,
      async () => (await cp.kubectl(["get", "node", nodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`])).stdout === "True",
      alive(kubelet),
    );
    // kube-controller-manager's node lifecycle controller lifts the kubelet's not-ready taint.
    const cpLog = join(cp.dir, "kube-controller-manager.log");
    await waitFor("the node without taints", 60, cpLog, async () => (await cp.kubectl(["get", "node", nodeName, "-o", "jsonpath={.spec.taints}"])).stdout === "");
    // Its ServiceAccount and root CA publishers give namespace default what pods need.
    await waitFor("ServiceAccount default/default", 60, cpLog, async () => (await cp.kubectl(["get", "serviceaccount", "default", "-n", "default"])).code === 0);
    await waitFor("ConfigMap default/kube-root-ca.crt", 60, cpLog, async () => (await cp.kubectl(["get", "configmap", "kube-root-ca.crt", "-n", "default"])).code === 0);
    await waitFor(
      "kube-proxy (rules synced)",
      60,
      kubeProxyLog,
      async () => (await run(inNode(["curl", "-fsS", "-o", "/dev/null", "--max-time", "2", "http://127.0.0.1:10256/healthz"]))).code === 0,
      alive(kubeProxy),
    );
    const readySeconds = (performance.now() - started) / 1000;

    const node: ClusterNode = {
      dir, name: nodeName, holderPid, namespaces, kubeletDir, readySeconds, ctr, importImage,
      pids: { containerd: containerd.pid, kubelet: kubelet.pid, kubeProxy: kubeProxy.pid },
      exec: (argv) => run(inNode(argv)),
    };
    return { controlPlane: cp, node, stop };
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    await stop().catch((s: unknown) => console.warn(`${s instanceof Error ? s.message : String(s)}`));
    throw new Error(detail);
  }
}
