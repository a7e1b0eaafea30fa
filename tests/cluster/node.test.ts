/**
 * The cluster tier's node (tests/lib/cluster-node.ts): a real kubelet and
 * containerd in namespaces the harness makes become a Ready Node; a busybox
 * pod runs and `kubectl logs` reads it through the API server and the
 * kubelet; a pod from the launcher's image runs `bunvirt --version` under
 * the kubelet and exits 0; kube-controller-manager runs a Deployment's
 * replicas, kube-proxy makes a ClusterIP Service answer from another pod and
 * from the node, a pod reaches the API server through the `kubernetes`
 * Service with its bound ServiceAccount token, the API server and the host
 * reach pod IPs, pods reach the host end of the veth, a hostPath of the
 * kubelet's pods dir gets later mounts (HostToContainer); stop() leaves no
 * process, mount, cgroup, namespace, link, route or firewall rule behind.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import {
  type Cluster, clusterTier, hostAddress, hostLink, kubeletRootInNode, kubepodsCgroups, kubernetesServiceIP, nodeAddress, nodeName, processesIn, startCluster,
} from "../lib/cluster-node.ts";
import { type LauncherImage, launcherImage, nodeImages } from "../lib/cluster-images.ts";
import { k8sVersion } from "../lib/control-plane.ts";

const skip = clusterTier("cluster node");

interface HostState {
  links: string[];
  routes: string;
  /** The host's nftables ruleset and iptables rules (kube-proxy's belong in the node's namespace only). */
  firewall: string;
  netns: string;
  cgroups: string[];
  /** The sysctls the kubelet sets, as the host has them. */
  sysctls: string[];
}

const kubeletSysctls = ["vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops", "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes"];

async function out(argv: string[]): Promise<string> {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  const [text] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return text;
}

async function hostState(): Promise<HostState> {
  const links = ((JSON.parse(await out(["ip", "-j", "link", "show"])) as { ifname: string }[]) ?? []).map((l) => l.ifname).sort();
  const sysctls = kubeletSysctls.map((k) => `${k}=${readFileSync(`/proc/sys/${k}`, "utf8").trim()}`);
  const firewall = (await out(["nft", "list", "ruleset"])) + (await out(["iptables-save"])).replace(/^#.*\n/gm, "");
  return { links, routes: await out(["ip", "route", "show", "table", "all"]), firewall, netns: await out(["ip", "netns", "list"]), cgroups: kubepodsCgroups(), sysctls };
}

/** Host mount points under `dir`. */
function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(dir));
}

/** Pids whose command line mentions `dir`. */
function processesMentioning(dir: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, "utf8").includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

interface Pod {
  spec: { nodeName?: string };
  status: { phase: string; podIP?: string; containerStatuses?: { state: { terminated?: { exitCode: number; reason?: string } } }[] };
}

/** A pod that runs `command` once, on the node, with its image already there. */
function podManifest(name: string, image: string, command: string[]): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "main", image, imagePullPolicy: "Never", command }],
    },
  });
}

/** Busybox httpd on 8080 answering "hi from <its pod name>". */
const webScript = "mkdir -p /www && echo hi from $(hostname) > /www/index.html && exec httpd -f -p 8080 -h /www";

/** A Deployment of `replicas` busybox httpd pods labelled app=NAME, and a ClusterIP Service NAME (80 -> 8080) in front of them. */
function webManifests(name: string, replicas: number): string {
  const labels = { app: name };
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 1,
          containers: [{
            name: "web", image: "bunvirt.local/busybox:1.35", imagePullPolicy: "Never", command: ["sh", "-c", webScript],
            ports: [{ containerPort: 8080 }],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          }],
        },
      },
    },
  };
  const service = { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] } };
  return [deployment, service].map((o) => JSON.stringify(o)).join("\n---\n");
}

/**
 * A shell loop printing the body's last line of `GET /` at IP:PORT, retried
 * once a second up to 30 times (kube-proxy's rules follow a Service within a
 * second or so). busybox nc, not wget: Debian's static busybox wget crashes.
 */
const httpGet = (ip: string, port: number): string =>
  `for i in $(seq 30); do
  line=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} ${port} | tail -n 1)
  case $line in hi*) echo "$line"; exit 0;; esac
  sleep 1
done
exit 1`;

describe.skipIf(skip !== null)("cluster node", () => {
  let cluster: Cluster | undefined;
  let before: HostState;
  let launcher: LauncherImage;

  beforeAll(async () => {
    before = await hostState();
    const images = await nodeImages();
    launcher = await launcherImage();
    console.log(`launcher image ${launcher.ref}: ${launcher.size.replaceAll("\n", ", ")}`);
    cluster = await startCluster({ images: [images.pause, images.busybox] });
    console.log(`node Ready ${cluster.node.readySeconds.toFixed(1)} s after the harness started (kube-apiserver ready in ${cluster.controlPlane.apiserverReadySeconds.toFixed(1)} s of it)`);
    const rss = (pid: number | undefined): string => {
      const m = pid === undefined ? null : /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return m === null ? "?" : `${(Number(m[1]) / 1024).toFixed(0)} MiB`;
    };
    console.log(`RSS at Ready: kube-controller-manager ${rss(cluster.controlPlane.pids.at(-1))}, kube-proxy ${rss(cluster.node.pids.kubeProxy)}, kubelet ${rss(cluster.node.pids.kubelet)}`);
  }, 600_000);
  afterAll(async () => cluster?.stop());

  /** Runs `script` once in a busybox pod and returns its log; throws with the log when it fails. */
  async function runPod(name: string, script: string, opts: { token?: boolean } = {}): Promise<string> {
    const cp = cluster!.controlPlane;
    const manifest = JSON.parse(podManifest(name, "bunvirt.local/busybox:1.35", ["sh", "-c", script])) as { spec: { automountServiceAccountToken: boolean } };
    manifest.spec.automountServiceAccountToken = opts.token === true;
    await cp.kubectlOk(["apply", "-f", "-"], { stdin: JSON.stringify(manifest) });
    const deadline = Date.now() + 120_000;
    let phase = "";
    while (Date.now() < deadline && phase !== "Succeeded" && phase !== "Failed") {
      await Bun.sleep(500);
      phase = (await cp.kubectl(["get", "pod", name, "-o", "jsonpath={.status.phase}"])).stdout;
    }
    const logs = (await cp.kubectl(["logs", name])).stdout;
    if (phase !== "Succeeded") throw new Error(`Cannot run pod ${name}: phase "${phase}", log:\n${logs}`);
    return logs;
  }

  test("the node registers and becomes Ready, at its node IP, with containerd and kubelet v1.34", async () => {
    const cp = cluster!.controlPlane;
    const node = JSON.parse(await cp.kubectlOk(["get", "node", nodeName, "-o", "json"])) as {
      status: { conditions: { type: string; status: string }[]; addresses: { type: string; address: string }[]; nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string } };
      spec: { taints?: unknown[] };
    };
    expect(node.status.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(node.status.addresses).toContainEqual({ type: "InternalIP", address: nodeAddress });
    expect(node.status.nodeInfo.kubeletVersion).toBe(k8sVersion);
    expect(node.status.nodeInfo.containerRuntimeVersion).toStartWith("containerd://1.6.");
    expect(node.spec.taints ?? []).toEqual([]);
  });

  test("a busybox pod runs on the node and kubectl logs reads its output", async () => {
    const cp = cluster!.controlPlane;
    await cp.kubectlOk(["apply", "-f", "-"], { stdin: podManifest("busybox", "bunvirt.local/busybox:1.35", ["sh", "-c", "echo hello from $(hostname) at $(ip -4 -o addr show eth0 | awk '{print $4}')"]) });
    await cp.kubectlOk(["wait", "pod/busybox", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=120s"]);
    const pod = JSON.parse(await cp.kubectlOk(["get", "pod", "busybox", "-o", "json"])) as Pod;
    expect(pod.spec.nodeName).toBe(nodeName);
    expect(pod.status.containerStatuses?.[0]?.state.terminated?.exitCode).toBe(0);
    const logs = await cp.kubectlOk(["logs", "busybox"]);
    expect(logs).toMatch(/^hello from busybox at 10\.244\.0\.\d+\/24\n$/);
  }, 180_000);

  test("a pod from the launcher's image runs bunvirt --version under the kubelet and exits 0", async () => {
    const { controlPlane: cp, node } = cluster!;
    await node.importImage(launcher.tar);
    await cp.kubectlOk(["apply", "-f", "-"], { stdin: podManifest("launcher", launcher.ref, ["/usr/bin/bunvirt", "--version"]) });
    await cp.kubectlOk(["wait", "pod/launcher", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=300s"]);
    const pod = JSON.parse(await cp.kubectlOk(["get", "pod", "launcher", "-o", "json"])) as Pod;
    expect(pod.status.containerStatuses?.[0]?.state.terminated?.exitCode).toBe(0);
    expect(await cp.kubectlOk(["logs", "launcher"])).toMatch(/^bunvirt \d+\.\d+\.\d+/);
  }, 600_000);

  test("every program the launcher runs starts inside its image (no library pruned too far)", async () => {
    const cp = cluster!.controlPlane;
    const tools = [
      "qemu-system-x86_64 --version",
      "qemu-img --version",
      "libvirtd --version",
      "virtlogd --version",
      "dbus-daemon --version",
      "libvirt-dbus --help",
      "nft --version",
      "ip -V",
      "unshare --version",
      "nsenter --version",
      "setsid --version",
      "test -f /usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
      "test -f /usr/share/OVMF/OVMF_VARS_4M.ms.fd",
      "test -f /usr/share/OVMF/OVMF_CODE_4M.fd",
      "test -f /usr/share/OVMF/OVMF_VARS_4M.fd",
      "test -f /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so",
    ];
    const script = tools.map((t) => `if ${t} >/dev/null 2>&1; then echo "ok: ${t}"; else echo "FAILED: ${t}"; fi`).join("\n");
    await cp.kubectlOk(["apply", "-f", "-"], { stdin: podManifest("launcher-tools", launcher.ref, ["/bin/sh", "-c", script]) });
    await cp.kubectlOk(["wait", "pod/launcher-tools", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=120s"]);
    const lines = (await cp.kubectlOk(["logs", "launcher-tools"])).trimEnd().split("\n");
    expect(lines).toEqual(tools.map((t) => `ok: ${t}`));
  }, 180_000);

  test("the kubelet's root dir is /var/lib/kubelet in the node, <dir>/var-lib/kubelet on the host, with its device-plugins socket dir", async () => {
    const { node } = cluster!;
    expect(node.kubeletDir).toBe(`${node.dir}/var-lib/kubelet`);
    expect(existsSync(`${node.kubeletDir}/device-plugins/kubelet.sock`)).toBe(true);
    const inside = await node.exec(["ls", `${kubeletRootInNode}/device-plugins`]);
    expect(inside.stdout.split("\n")).toContain("kubelet.sock");
  });

  test("kube-controller-manager: a Deployment's 2 replicas become Ready on the node", async () => {
    const cp = cluster!.controlPlane;
    await cp.kubectlOk(["apply", "-f", "-"], { stdin: webManifests("web", 2) });
    await cp.kubectlOk(["rollout", "status", "deployment/web", "--timeout=120s"]);
    const pods = JSON.parse(await cp.kubectlOk(["get", "pods", "-l", "app=web", "-o", "json"])) as { items: (Pod & { metadata: { name: string } })[] };
    expect(pods.items.map((p) => [p.spec.nodeName, p.status.phase])).toEqual([[nodeName, "Running"], [nodeName, "Running"]]);
    // The Service's EndpointSlice (endpointslice controller) lists both pods.
    const slices = JSON.parse(await cp.kubectlOk(["get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "json"])) as { items: { endpoints?: { addresses: string[] }[] }[] };
    const addresses = slices.items.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses)).sort();
    expect(addresses).toEqual(pods.items.map((p) => p.status.podIP ?? "").sort());
  }, 180_000);

  test("kube-proxy: the Service's ClusterIP answers from another pod and from the node", async () => {
    const { controlPlane: cp, node } = cluster!;
    const ip = await cp.kubectlOk(["get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"]);
    expect(ip).toMatch(/^10\.96\.\d+\.\d+$/);
    const names = (await cp.kubectlOk(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"])).split(" ");
    const fromPod = await runPod("web-client", httpGet(ip, 80));
    expect(names.map((n) => `hi from ${n}\n`)).toContain(fromPod);
    const fromNode = await node.exec(["curl", "-fsS", "--max-time", "5", `http://${ip}/`]);
    expect(names.map((n) => `hi from ${n}\n`)).toContain(fromNode.stdout);
    // The node (hostNetwork pods, in-cluster clients) reaches the API server through the kubernetes Service: 401 to no credentials.
    const api = await node.exec(["curl", "-sS", "--max-time", "5", "--cacert", `${cp.pki}/ca.crt`, "-o", "/dev/null", "-w", "%{http_code}", `https://${kubernetesServiceIP}/version`]);
    expect(api).toMatchObject({ code: 0, stdout: "401" });
  }, 180_000);

  test("a pod reaches the API server through the kubernetes Service, with a bound ServiceAccount token", async () => {
    const { controlPlane: cp } = cluster!;
    const sa = "/var/run/secrets/kubernetes.io/serviceaccount";
    // busybox has no TLS client: a plain HTTP request to the API server's TLS port gets Go's "HTTP request to an HTTPS server" answer.
    const script = [
      'echo "service $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"',
      "for i in $(seq 30); do",
      "  printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 $KUBERNETES_SERVICE_HOST $KUBERNETES_SERVICE_PORT > /tmp/answer",
      "  grep -q HTTPS /tmp/answer && break; sleep 1",
      "done",
      `cat /tmp/answer; echo; echo ---; cat ${sa}/ca.crt; echo ---; cat ${sa}/token`,
    ].join("\n");
    const logs = await runPod("api-client", script, { token: true });
    const [head, ca, token] = logs.split("\n---\n");
    expect(head).toStartWith(`service ${kubernetesServiceIP}:443\n`);
    expect(head).toContain("Client sent an HTTP request to an HTTPS server.");
    expect(ca).toBe(readFileSync(`${cp.pki}/ca.crt`, "utf8").trimEnd());
    // The token is pod-bound: the API server knows its ServiceAccount, pod and node.
    const review = await fetch(`${cp.server}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
      method: "POST",
      headers: { authorization: `Bearer ${token!.trim()}`, "content-type": "application/json" },
      body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
      tls: { ca: readFileSync(`${cp.pki}/ca.crt`) },
    });
    const user = ((await review.json()) as { status: { userInfo: { username: string; extra?: Record<string, string[]> } } }).status.userInfo;
    expect(user.username).toBe("system:serviceaccount:default:default");
    expect(user.extra?.["authentication.kubernetes.io/pod-name"]).toEqual(["api-client"]);
    expect(user.extra?.["authentication.kubernetes.io/node-name"]).toEqual([nodeName]);
  }, 180_000);

  test("the API server (proxy) and the host reach a pod IP", async () => {
    const cp = cluster!.controlPlane;
    const pod = JSON.parse(await cp.kubectlOk(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0]}"])) as Pod & { metadata: { name: string } };
    const viaProxy = await cp.kubectlOk(["get", "--raw", `/api/v1/namespaces/default/pods/${pod.metadata.name}:8080/proxy/`]);
    expect(viaProxy).toBe(`hi from ${pod.metadata.name}\n`);
    const fromHost = await fetch(`http://${pod.status.podIP}:8080/`, { signal: AbortSignal.timeout(5000) });
    expect(await fromHost.text()).toBe(`hi from ${pod.metadata.name}\n`);
  }, 60_000);

  test("a hostPath of /var/lib/kubelet/pods with HostToContainer propagation sees volumes the kubelet mounts later", async () => {
    const cp = cluster!.controlPlane;
    // The watcher starts first; it sees the token volume (a tmpfs) of a pod started after it only through propagation
    // (and without a shared mount above the hostPath, containerd would refuse to start it).
    const watcher = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "mount-watcher", namespace: "default" },
      spec: {
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: "pods", hostPath: { path: `${kubeletRootInNode}/pods`, type: "Directory" } }],
        containers: [{
          name: "main", image: "bunvirt.local/busybox:1.35", imagePullPolicy: "Never",
          command: ["sh", "-c", "n=$(grep -c 'kubernetes.io~projected' /proc/self/mountinfo); until [ $(grep -c 'kubernetes.io~projected' /proc/self/mountinfo) -gt $n ]; do sleep 0.5; done; echo seen; exec sleep 3600"],
          volumeMounts: [{ name: "pods", mountPath: "/host-pods", mountPropagation: "HostToContainer" }],
        }],
      },
    };
    await cp.kubectlOk(["apply", "-f", "-"], { stdin: JSON.stringify(watcher) });
    await cp.kubectlOk(["wait", "pod/mount-watcher", "--for=condition=Ready", "--timeout=120s"]);
    expect((await cp.kubectlOk(["logs", "mount-watcher"]))).toBe("");
    const sleeper = JSON.parse(podManifest("token-holder", "bunvirt.local/busybox:1.35", ["sleep", "3600"])) as { spec: { automountServiceAccountToken: boolean } };
    sleeper.spec.automountServiceAccountToken = true;
    await cp.kubectlOk(["apply", "-f", "-"], { stdin: JSON.stringify(sleeper) });
    await cp.kubectlOk(["wait", "pod/token-holder", "--for=condition=Ready", "--timeout=120s"]);
    const deadline = Date.now() + 30_000;
    let logs = "";
    while (logs === "" && Date.now() < deadline) {
      await Bun.sleep(500);
      logs = await cp.kubectlOk(["logs", "mount-watcher"]);
    }
    expect(logs).toBe("seen\n");
    await cp.kubectlOk(["delete", "pod", "mount-watcher", "token-holder", "--wait=false"]);
  }, 300_000);

  test("a pod reaches the host end of the veth (where the guest registry listens)", async () => {
    const server = Bun.serve({ hostname: hostAddress, port: 0, fetch: () => new Response("hi from the host\n") });
    try {
      const logs = await runPod("host-client", httpGet(hostAddress, Number(server.port)));
      expect(logs).toBe("hi from the host\n");
    } finally {
      await server.stop(true);
    }
  }, 180_000);

  test("stop() leaves no process, mount, cgroup, namespace, link, route or firewall rule behind", async () => {
    const c = cluster!;
    const { dir, namespaces, holderPid } = c.node;
    expect(processesIn(namespaces.mnt).length).toBeGreaterThan(1);
    expect(kubepodsCgroups().length).toBeGreaterThan(0);
    expect((await hostState()).links).toContain(hostLink);
    await c.stop();
    cluster = undefined;
    expect(processesIn(namespaces.mnt)).toEqual([]);
    expect(readdirSync("/proc").some((d) => d === String(holderPid))).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
    expect(processesMentioning(c.controlPlane.dir)).toEqual([]);
    expect(mountsUnder(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(await hostState()).toEqual(before);
  }, 180_000);
});
