/**
 * What the end-to-end suite (tests/cluster/e2e.test.ts) runs against: a
 * small interface that works through kubectl alone, so the same suite runs on
 * the cluster tier's node and on any cluster where bunvirt is deployed.
 *
 * Targets:
 * - default: the test node of tests/lib/e2e-cluster.ts (node, registry, the
 *   controller and the handler as processes on the host); `node` gives its
 *   internals (kubelet directory, role processes) to the few tests that need
 *   them. Everything else goes through the same kubectl paths as below, with
 *   the node's admin kubeconfig.
 * - BUNVIRT_E2E_KUBECONFIG=FILE: a cluster where bunvirt is already deployed;
 *   the suite only runs kubectl against it, and `node` is null.
 *
 * Environment (see README, "The cluster tier"):
 *   BUNVIRT_E2E_KUBECONFIG   the cluster to run against (default: start the test node)
 *   BUNVIRT_E2E_KUBECTL      the kubectl to run (default: the cluster tier's build, else kubectl on PATH)
 *   BUNVIRT_E2E_NAMESPACE    where the suite's VMs and probe pods go (default "default")
 *   BUNVIRT_E2E_GUEST_IMAGE  the test guest's container disk as that cluster's handlers pull it; replaces
 *                            the examples' image name (default: the examples' own name, unchanged)
 *   BUNVIRT_E2E_PROBE_IMAGE  an image with busybox `sh` and `nc` for the probe pods
 *                            (default bunvirt.local/busybox:1.35, imported into the test node)
 *
 * The guest's serial console is read with `kubectl exec` into the launcher
 * pod's compute container (`tail -F` of the console log the launcher keeps
 * in its state directory; the launcher's image has coreutils); a guest's
 * port is checked from a node: a short-lived `hostNetwork: true` pod runs
 * busybox `nc POD_IP PORT` and the suite reads its log.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunResult } from "./bunvirt.ts";
import { clusterTier } from "./cluster-node.ts";
import { k8sBin } from "./control-plane.ts";
import { type E2eCluster, type Obj, startE2e, until } from "./e2e-cluster.ts";
import { command, hostTier } from "./host.ts";

/** The examples' container disk (examples/vm-v1alpha1.yaml, examples/vm-v1.yaml). */
export const exampleGuestImage = "kubevirt/cirros-registry-disk-demo:devel";
export const defaultProbeImage = "bunvirt.local/busybox:1.35";
/** The serial console's log in the launcher's container (its state dir, src/launcher/vm-launcher.ts launcherDirs). */
export const serialLogInLauncher = "/run/bunvirt/launcher/console/serial0.log";

/** A followed stream (kubectl exec tail -F, kubectl logs -f), re-attached when kubectl drops it. */
export interface Follower {
  /** The most complete text read so far. */
  readonly text: string;
  /** True once kubectl ended for good (the container is gone, or stop()). */
  readonly ended: boolean;
  stop(): void;
}

export interface E2eTarget {
  /** "node" (the cluster tier's test node) or "kubeconfig" (BUNVIRT_E2E_KUBECONFIG). */
  kind: "node" | "kubeconfig";
  /** The namespace of the suite's VMs and probe pods. */
  namespace: string;
  /** The test node's internals, or null on a cluster given by kubeconfig. */
  node: E2eCluster | null;
  kubectl(args: string[], opts?: { stdin?: string }): Promise<RunResult>;
  kubectlOk(args: string[], opts?: { stdin?: string }): Promise<string>;
  /** The object in the suite's namespace, or null when it does not exist. */
  get(kind: string, name: string): Promise<Obj | null>;
  /** kubectl apply of a manifest file, the guest image named by BUNVIRT_E2E_GUEST_IMAGE when set. */
  apply(file: string): Promise<void>;
  /** The launcher pods of a VMI (by its uid). */
  launcherPods(vmiUid: string): Promise<Obj[]>;
  /** Follows the guest's serial console in a launcher pod. */
  followSerial(pod: string): Follower;
  /** Follows a pod's log. */
  followLog(pod: string): Follower;
  /** The first line a TCP client on a node reads from IP:PORT (a hostNetwork pod running busybox nc). */
  firstLine(ip: string, port: number): Promise<string>;
  /** What helps when a wait fails: pods, the roles' logs (node target). */
  diagnostics(): Promise<string>;
  stop(): Promise<void>;
}

function kubectlBinary(): string {
  const given = process.env.BUNVIRT_E2E_KUBECTL;
  if (given !== undefined && given !== "") return given;
  const built = join(k8sBin, "kubectl");
  return existsSync(built) ? built : "kubectl";
}

/** Null when the suite can run here, else the reason to skip. */
export function targetSkip(suite: string): string | null {
  const kubeconfig = process.env.BUNVIRT_E2E_KUBECONFIG;
  if (kubeconfig !== undefined && kubeconfig !== "") {
    if (!existsSync(kubeconfig)) throw new Error(`Cannot run ${suite}: BUNVIRT_E2E_KUBECONFIG "${kubeconfig}" does not exist`);
    const kubectl = kubectlBinary();
    return kubectl.includes("/") ? hostTier(suite, [{ kind: "built", path: kubectl, by: "BUNVIRT_E2E_KUBECTL" }]) : hostTier(suite, [command("kubectl", "kubectl")]);
  }
  return clusterTier(suite)
    ?? hostTier(`${suite} (guest registry)`, [command("docker-registry", "docker-registry"), command("skopeo", "skopeo"), command("umoci", "umoci"), command("curl", "curl")]);
}

/** The one way the suite runs kubectl, on either target. */
function kubectlAt(kubeconfig: string): (args: string[], opts?: { stdin?: string }) => Promise<RunResult> {
  const binary = kubectlBinary();
  return async (args, opts = {}) => {
    const p = Bun.spawn([binary, `--kubeconfig=${kubeconfig}`, ...args], { stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin), stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, stdout, stderr };
  };
}

/** The manifest as the target applies it: the examples' guest image replaced by `image` when given. */
export function manifestFor(text: string, image: string | undefined): string {
  if (image === undefined || image === "" || image === exampleGuestImage) return text;
  if (!text.includes(`image: ${exampleGuestImage}`)) throw new Error(`Cannot name the guest image "${image}": the manifest does not use "${exampleGuestImage}"`);
  return text.replaceAll(`image: ${exampleGuestImage}`, `image: ${image}`);
}

/** The probe pod: from a node's network, the first line IP:PORT answers (retried while nothing answers, ~30 s). */
export function probePod(name: string, namespace: string, image: string, ip: string, port: number): object {
  const script = [
    "i=0",
    "while [ $i -lt 30 ]; do",
    '  line=$(nc -w 5 "$1" "$2" </dev/null | head -n 1)',
    '  if [ -n "$line" ]; then echo "$line"; exit 0; fi',
    "  i=$((i + 1)); sleep 1",
    "done",
    'echo "no answer from $1:$2" >&2; exit 1',
  ].join("\n");
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels: { "app.kubernetes.io/name": "bunvirt-e2e-probe" } },
    spec: {
      hostNetwork: true,
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: "probe", image, imagePullPolicy: "IfNotPresent", command: ["sh", "-c", script, "probe", ip, String(port)] }],
    },
  };
}

export async function startTarget(): Promise<E2eTarget> {
  const given = process.env.BUNVIRT_E2E_KUBECONFIG;
  const onNode = given === undefined || given === "";
  const node = onNode ? await startE2e() : null;
  const kubeconfig = node !== null ? node.cluster.controlPlane.adminKubeconfig : given!;
  const kubectlPath = kubectlBinary();
  const kubectl = kubectlAt(kubeconfig);
  const namespace = process.env.BUNVIRT_E2E_NAMESPACE || "default";
  const probeImage = process.env.BUNVIRT_E2E_PROBE_IMAGE || defaultProbeImage;
  const guestImage = process.env.BUNVIRT_E2E_GUEST_IMAGE;
  const followers: Follower[] = [];
  const applied: string[] = [];
  let probes = 0;

  const kubectlOk = async (args: string[], opts?: { stdin?: string }): Promise<string> => {
    const r = await kubectl(args, opts);
    if (r.code !== 0) throw new Error(`Cannot run "kubectl ${args.join(" ")}": exit ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  };

  /**
   * Runs kubectl ARGS about POD and keeps its output. When kubectl fails while
   * the pod still runs (a dropped stream), attaches again (the command prints
   * from the start); ends when kubectl exits 0, the pod stopped running, or stop().
   */
  const follow = (pod: string, args: string[]): Follower => {
    const runs: { text: string }[] = [];
    let current: Bun.Subprocess | null = null;
    let stopped = false;
    let ended = false;
    const podRuns = async (): Promise<boolean> => {
      const r = await kubectl(["get", "pod", pod, "-n", namespace, "-o", "jsonpath={.status.phase}"]);
      return r.code === 0 && r.stdout === "Running";
    };
    void (async () => {
      for (let attempt = 0; attempt < 20 && !stopped; attempt++) {
        const p = Bun.spawn([kubectlPath, `--kubeconfig=${kubeconfig}`, ...args], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
        current = p;
        const out = { text: "" };
        runs.push(out);
        const read = (async () => {
          const decoder = new TextDecoder();
          for await (const chunk of p.stdout) out.text += decoder.decode(chunk, { stream: true });
        })().catch(() => undefined);
        const code = await p.exited;
        await read;
        if (code === 0 || stopped || !(await podRuns())) break;
        await Bun.sleep(1000);
      }
      ended = true;
    })();
    const f: Follower = {
      get text() {
        return runs.reduce((best, r) => (r.text.length > best.length ? r.text : best), "");
      },
      get ended() {
        return ended;
      },
      stop: () => {
        stopped = true;
        current?.kill("SIGTERM");
      },
    };
    followers.push(f);
    return f;
  };

  const diagnostics = async (): Promise<string> => {
    const pods = await kubectl(["get", "pods", "-A", "-o", "wide"]);
    const vms = await kubectl(["get", "vm,vmi", "-n", namespace, "-o", "wide"]);
    return [pods.stdout + pods.stderr, vms.stdout + vms.stderr, node !== null ? await node.logs() : ""].join("\n----\n");
  };

  return {
    kind: onNode ? "node" : "kubeconfig",
    namespace,
    node,
    kubectl,
    kubectlOk,
    get: async (kind, name) => {
      const r = await kubectl(["get", kind, name, "-n", namespace, "-o", "json"]);
      return r.code === 0 ? (JSON.parse(r.stdout) as Obj) : null;
    },
    apply: async (file) => {
      await kubectlOk(["apply", "-n", namespace, "-f", "-"], { stdin: manifestFor(readFileSync(file, "utf8"), guestImage) });
      applied.push(file);
    },
    launcherPods: async (vmiUid) => {
      const list = JSON.parse(await kubectlOk(["get", "pods", "-n", namespace, "-l", `kubevirt.io/created-by=${vmiUid}`, "-o", "json"])) as { items: Obj[] };
      return list.items;
    },
    followSerial: (pod) => follow(pod, ["exec", "-n", namespace, pod, "-c", "compute", "--", "tail", "-F", "-s", "0.2", "-n", "+1", serialLogInLauncher]),
    followLog: (pod) => follow(pod, ["logs", "-f", "-n", namespace, pod, "-c", "compute"]),
    firstLine: async (ip, port) => {
      const name = `bunvirt-probe-${process.pid}-${++probes}`;
      await kubectlOk(["create", "-f", "-"], { stdin: JSON.stringify(probePod(name, namespace, probeImage, ip, port)) });
      try {
        const phase = await until(`the probe pod ${name} ended`, 180, async () => {
          const p = JSON.parse(await kubectlOk(["get", "pod", name, "-n", namespace, "-o", "json"])) as Obj;
          return p.status?.phase === "Succeeded" || p.status?.phase === "Failed" ? p.status.phase : null;
        }, diagnostics);
        const log = await kubectlOk(["logs", "-n", namespace, name]);
        if (phase !== "Succeeded") throw new Error(`Cannot read a line from ${ip}:${port} on a node: the probe pod ${phase}: ${log}`);
        return log.split("\n")[0]!;
      } finally {
        await kubectl(["delete", "pod", name, "-n", namespace, "--wait=false"]);
      }
    },
    diagnostics,
    stop: async () => {
      for (const f of followers) f.stop();
      if (node !== null) {
        await node.stop();
        return;
      }
      // A cluster that outlives the suite: take away what the suite made (its VMs go with their manifests).
      for (const file of applied) await kubectl(["delete", "-n", namespace, "--ignore-not-found", "--wait=false", "-f", "-"], { stdin: manifestFor(readFileSync(file, "utf8"), guestImage) });
      await kubectl(["delete", "pods", "-n", namespace, "-l", "app.kubernetes.io/name=bunvirt-e2e-probe", "--ignore-not-found", "--wait=false"]);
    },
  };
}
