/**
 * bunvirt deployed as users deploy it (`kubectl apply -k`, tests/lib/e2e-deployed.ts)
 * on the cluster tier's node, proven with what only a deployment has:
 * - launcher pods run the controller pod's own image (no --launcher-image);
 * - a ClusterIP Service in front of a VM's masquerade port answers a client in another pod;
 * - the handler's ServiceAccount, with a token bound to the running handler pod,
 *   may label its own Node but is refused for another node's Node and VMI;
 * - deleting the leader's pod: another replica takes the Lease, a VM created after
 *   runs, one VMI and one launcher pod per VM;
 * - the leader applies the shipped cluster instancetypes and preferences;
 * - a changed key in ConfigMap bunvirt-config restarts every role (exit 0);
 * - `kubectl delete -k` leaves no bunvirt object (CRDs, webhooks, ClusterRoles,
 *   bindings, policy, namespace), and the PVC a VM's disk used is still there.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { repoRoot } from "../lib/bunvirt.ts";
import { nodeName } from "../lib/cluster-node.ts";
import { k8sBin } from "../lib/control-plane.ts";
import { type Obj, until } from "../lib/e2e-cluster.ts";
import { type Deployed, deployNamespace, startDeployed } from "../lib/e2e-deployed.ts";
import { targetSkip } from "../lib/e2e-target.ts";
import { commonInstancetypes } from "../../src/roles/controller/instancetype/common.ts";

const skip = process.env.BUNVIRT_E2E_KUBECONFIG ? "cluster deployed: starts its own node (BUNVIRT_E2E_KUBECONFIG is for e2e.test.ts)" : targetSkip("cluster deployed");
const ns = "default";
const pvDir = join(tmpdir(), `bunvirt-deployed-pv-${process.pid}`);

/** examples/vm-v1.yaml renamed, with an extra disk on `claim` when given. */
function vmManifest(name: string, claim?: string): string {
  const vm = parse(readFileSync(join(repoRoot, "examples/vm-v1.yaml"), "utf8")) as {
    metadata: { name: string; labels: Record<string, string> };
    spec: { template: { metadata: { labels: Record<string, string> }; spec: { domain: { devices: { disks: object[] } }; volumes: object[] } } };
  };
  vm.metadata.name = name;
  vm.metadata.labels = { "kubevirt.io/vm": name };
  vm.spec.template.metadata.labels = { "kubevirt.io/vm": name };
  if (claim !== undefined) {
    vm.spec.template.spec.domain.devices.disks.push({ name: "data", disk: { bus: "virtio" } });
    vm.spec.template.spec.volumes.push({ name: "data", persistentVolumeClaim: { claimName: claim } });
  }
  return JSON.stringify(vm);
}

describe.skipIf(skip !== null)("bunvirt deployed with kubectl apply -k", () => {
  let d: Deployed;
  const kubectl = (args: string[], stdin?: string) => d.e.kubectl(args, stdin === undefined ? {} : { stdin });
  const kubectlOk = (args: string[], stdin?: string) => d.e.kubectlOk(args, stdin === undefined ? {} : { stdin });
  const getJson = async <T = Obj>(args: string[]): Promise<T> => JSON.parse(await kubectlOk([...args, "-o", "json"])) as T;
  const why = (): Promise<string> => d.logs();

  async function runningVmi(name: string): Promise<Obj> {
    return until(`VMI ${name} Running`, 600, async () => {
      const r = await kubectl(["get", "vmi", name, "-n", ns, "-o", "json"]);
      const v = r.code === 0 ? (JSON.parse(r.stdout) as Obj) : null;
      return v?.status?.phase === "Running" ? v : null;
    }, why);
  }

  /** The first line a pod on the pod network reads from HOST:PORT (busybox nc, retried while nothing answers). */
  async function lineFromPod(name: string, host: string, port: number): Promise<string> {
    const script = 'i=0; while [ $i -lt 60 ]; do l=$(nc -w 5 "$1" "$2" </dev/null | head -n 1); [ -n "$l" ] && { echo "$l"; exit 0; }; i=$((i+1)); sleep 1; done; exit 1';
    await kubectlOk(["create", "-f", "-"], JSON.stringify({
      apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns },
      spec: { restartPolicy: "Never", automountServiceAccountToken: false, terminationGracePeriodSeconds: 0,
        containers: [{ name: "client", image: "bunvirt.local/busybox:1.35", imagePullPolicy: "IfNotPresent", command: ["sh", "-c", script, "client", host, String(port)] }] },
    }));
    const phase = await until(`pod ${name} ended`, 180, async () => {
      const p = await getJson(["get", "pod", name, "-n", ns]);
      return p.status?.phase === "Succeeded" || p.status?.phase === "Failed" ? p.status.phase : null;
    }, why);
    const log = await kubectlOk(["logs", "-n", ns, name]);
    await kubectl(["delete", "pod", name, "-n", ns, "--wait=false"]);
    expect(phase).toBe("Succeeded");
    return log.split("\n")[0]!;
  }

  beforeAll(async () => {
    d = await startDeployed();
    console.log(`deployed: every role Ready ${d.readySeconds.toFixed(1)} s after kubectl apply -k; RSS MiB ${JSON.stringify(await d.rss())}`);
  }, 1_200_000);

  afterAll(async () => {
    await d?.stop();
    rmSync(pvDir, { recursive: true, force: true });
  }, 600_000);

  test("a ClusterIP Service in front of a VM's masquerade port answers another pod; the launcher runs the controller's own image", async () => {
    // A disk on a claim (a hostPath PV: the node has no provisioner), kept when bunvirt is deleted (last test).
    mkdirSync(pvDir, { recursive: true });
    // The disk on the claim: the launcher does not know the claim's size, so it finds disk.img rather than making one.
    writeFileSync(join(pvDir, "disk.img"), "");
    truncateSync(join(pvDir, "disk.img"), 64 * 1024 * 1024);
    chmodSync(join(pvDir, "disk.img"), 0o666);
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({
      apiVersion: "v1", kind: "List", items: [
        { apiVersion: "v1", kind: "PersistentVolume", metadata: { name: `deployed-pv-${process.pid}` },
          spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], persistentVolumeReclaimPolicy: "Retain", storageClassName: "manual", hostPath: { path: pvDir, type: "Directory" } } },
        { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "deployed-data", namespace: ns },
          spec: { accessModes: ["ReadWriteOnce"], storageClassName: "manual", volumeName: `deployed-pv-${process.pid}`, resources: { requests: { storage: "1Gi" } } } },
      ],
    }));
    await kubectlOk(["apply", "-n", ns, "-f", "-"], vmManifest("served", "deployed-data"));
    const vmi = await runningVmi("served");
    const pods = (await getJson<{ items: (Obj & { spec: { containers: { name: string; image: string }[] } })[] }>(["get", "pods", "-n", ns, "-l", `kubevirt.io/created-by=${vmi.metadata.uid}`])).items;
    expect(pods).toHaveLength(1);
    const controllerImage = (await getJson<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(["get", "deployment", "bunvirt-controller", "-n", deployNamespace])).spec.template.spec.containers[0]!.image;
    expect(pods[0]!.spec.containers.find((c) => c.name === "compute")?.image).toBe(controllerImage);

    await kubectlOk(["apply", "-f", "-"], JSON.stringify({
      apiVersion: "v1", kind: "Service", metadata: { name: "served-http", namespace: ns },
      spec: { selector: { "vm.kubevirt.io/name": "served" }, ports: [{ port: 80, targetPort: 8080 }] },
    }));
    const ip = (await getJson<{ spec: { clusterIP: string } }>(["get", "service", "served-http", "-n", ns])).spec.clusterIP;
    expect(await lineFromPod("served-client", ip, 80)).toBe("bunvirt-guest served");
  }, 900_000);

  test("the one kubectl apply -k is enough for the shipped cluster instancetypes and preferences: the leader applies them (through the webhook Service)", async () => {
    const names = await until("the shipped instancetypes and preferences", 120, async () => {
      const got = (await kubectl(["get", "vmcf,vmcp", "-o", "jsonpath={range .items[*]}{.kind}/{.metadata.name} {end}"])).stdout.trim().split(" ").filter((x) => x !== "").sort();
      return got.length === commonInstancetypes.length ? got : null;
    }, why);
    expect(names).toEqual(commonInstancetypes.map((o) => `${o.kind}/${o.metadata.name}`).sort());
  }, 180_000);

  test("the handler's ServiceAccount (a token bound to its pod) may label its own Node, not another node's Node or VMI", async () => {
    const { handlers } = await d.pods();
    const handler = await getJson(["get", "pod", handlers[0]!, "-n", deployNamespace]);
    const token = (await kubectlOk(["create", "token", "bunvirt-handler", "-n", deployNamespace, "--duration=10m",
      "--bound-object-kind", "Pod", "--bound-object-name", handler.metadata.name, "--bound-object-uid", handler.metadata.uid])).trim();
    const admin = parse(readFileSync(d.kubeconfig, "utf8")) as { clusters: { cluster: Record<string, string> }[] };
    const kc = join(d.overlay, "handler.kubeconfig");
    writeFileSync(kc, JSON.stringify({
      apiVersion: "v1", kind: "Config", clusters: [{ name: "c", cluster: admin.clusters[0]!.cluster }],
      users: [{ name: "handler", user: { token } }], contexts: [{ name: "h", context: { cluster: "c", user: "handler" } }], "current-context": "h",
    }));
    const asHandler = (args: string[]) => kubectl([`--kubeconfig=${kc}`, ...args]);
    // Another node (an object only: nothing runs there) and a VMI placed on it.
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: "bunvirt-other-node" } }));
    const template = (parse(vmManifest("elsewhere")) as { spec: { template: { spec: Record<string, unknown> } } }).spec.template;
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({
      apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance",
      metadata: { name: "elsewhere", labels: { "kubevirt.io/nodeName": "bunvirt-other-node" } },
      // Its launcher pod stays Pending: no node carries this label, so the VMI stays the other node's.
      spec: { ...template.spec, nodeSelector: { "bunvirt.io/deployed-test": "nowhere" } },
    }));
    // kubectl's --kubeconfig given twice: the last wins.
    const own = await asHandler(["label", "node", nodeName, "kubevirt.io/deployed-test=yes", "--overwrite"]);
    expect(own.stderr).toBe("");
    expect(own.code).toBe(0);
    const otherNode = await asHandler(["label", "node", "bunvirt-other-node", "kubevirt.io/deployed-test=yes", "--overwrite"]);
    expect(otherNode.code).not.toBe(0);
    expect(otherNode.stderr).toContain("bunvirt-handler-node-restriction");
    const otherVmi = await asHandler(["annotate", "vmi", "elsewhere", "-n", ns, "kubevirt.io/deployed-test=yes"]);
    expect(otherVmi.code).not.toBe(0);
    expect(otherVmi.stderr).toMatch(/forbidden|denied/i);
    await kubectl(["delete", "vmi", "elsewhere", "-n", ns, "--wait=false"]);
    await kubectl(["delete", "node", "bunvirt-other-node", "--wait=false"]);
    await kubectl(["label", "node", nodeName, "kubevirt.io/deployed-test-"]);
  }, 300_000);

  test("deleting the leader's pod: another replica leads, a VM created after runs, one VMI and one launcher pod per VM", async () => {
    const before = await d.pods();
    expect(before.controllers).toContain(before.leader);
    // The leader's log as it ends (the pod and its logs go once it has stopped).
    const follow = Bun.spawn([join(k8sBin, "kubectl"), `--kubeconfig=${d.kubeconfig}`, "logs", "-f", "-n", deployNamespace, before.leader], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    const leaderLog = new Response(follow.stdout).text();
    await until("the leader's log followed", 30, async () => ((await kubectl(["logs", "-n", deployNamespace, before.leader, "--tail=1"])).code === 0 ? true : null));
    await Bun.sleep(1000);
    await kubectlOk(["delete", "pod", before.leader, "-n", deployNamespace, "--wait=false"]);
    // On SIGTERM the leader stops reconciling, then hands the Lease back: the waiting
    // standby (at its next retry) or the Deployment's new pod takes it at once, without
    // waiting out the 15 s lease.
    const deleted = Date.now();
    const standby = before.controllers.find((p) => p !== before.leader);
    const leader = await until("another replica holds the Lease", 120, async () => {
      const now = await d.pods();
      return now.leader !== "" && now.leader !== before.leader && now.controllers.includes(now.leader) ? now.leader : null;
    }, why);
    console.log(`failover: "${leader}" (${leader === standby ? "the standby" : "the replacement pod"}) leads ${((Date.now() - deleted) / 1000).toFixed(1)} s after the leader's pod was deleted`);
    const ended = await Promise.race([leaderLog, Bun.sleep(90_000).then(() => null)]);
    follow.kill();
    expect(ended ?? (await leaderLog)).toContain("released the Lease");
    await kubectlOk(["apply", "-n", ns, "-f", "-"], vmManifest("after-failover"));
    const vmi = await runningVmi("after-failover");
    for (const vm of ["served", "after-failover"]) {
      const vmis = (await getJson<{ items: Obj[] }>(["get", "vmi", "-n", ns, "-l", `kubevirt.io/vm=${vm}`])).items;
      expect(vmis.map((v) => v.metadata.name)).toEqual([vm]);
      const pods = (await getJson<{ items: Obj[] }>(["get", "pods", "-n", ns, "-l", `kubevirt.io/created-by=${vmis[0]!.metadata.uid}`])).items.filter((p) => p.metadata.deletionTimestamp === undefined);
      expect(pods).toHaveLength(1);
    }
    expect(vmi.metadata.name).toBe("after-failover");
    // The Deployment replaces the deleted pod; both replicas back.
    await d.ready();
  }, 900_000);

  test("a changed setting in the ConfigMap: every role logs the key, exits 0 and runs again with it", async () => {
    type PodStatus = Obj & { status: { containerStatuses?: { restartCount: number; lastState?: { terminated?: { exitCode: number } } }[] } };
    const podList = async (): Promise<PodStatus[]> =>
      (await getJson<{ items: PodStatus[] }>(["get", "pods", "-n", deployNamespace, "-l", "app.kubernetes.io/name=bunvirt"])).items.filter((p) => p.metadata.deletionTimestamp === undefined);
    const before = await podList();
    await kubectlOk(["patch", "configmap", "bunvirt-config", "-n", deployNamespace, "--type", "merge", "-p", JSON.stringify({ data: { "log-level": "info" } })]);
    // The kubelet refreshes a ConfigMap volume within its sync period (about a minute), then each role sees it within 5 s.
    const restarted = await until("every role restarted once", 300, async () => {
      const now = await podList();
      const all = before.every((b) => now.some((p) => p.metadata.uid === b.metadata.uid && (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1));
      return all ? now : null;
    }, why);
    for (const p of restarted) {
      expect(p.status.containerStatuses![0]!.lastState?.terminated?.exitCode).toBe(0);
      expect(await kubectlOk(["logs", "-n", deployNamespace, p.metadata.name, "--previous"])).toContain('changed (\\"log-level\\")');
    }
    await d.ready();
  }, 600_000);

  test("kubectl delete -k leaves no bunvirt object; the claim a VM's disk used stays", async () => {
    await kubectlOk(["delete", "vm", "served", "after-failover", "-n", ns, "--ignore-not-found", "--wait=true", "--timeout=300s"]);
    await d.uninstall();
    const left = await kubectlOk(["get", "crd,validatingwebhookconfigurations,mutatingwebhookconfigurations,clusterroles,clusterrolebindings,validatingadmissionpolicies,validatingadmissionpolicybindings,namespaces", "-o", "name"]);
    const ours = left.split("\n").filter((l) => /bunvirt|kubevirt/.test(l));
    expect(ours).toEqual([]);
    const pvc = await getJson(["get", "pvc", "deployed-data", "-n", ns]);
    expect(pvc.status?.phase).toBe("Bound");
    expect(existsSync(join(pvDir, "disk.img"))).toBe(true);
    await kubectl(["delete", "pvc", "deployed-data", "-n", ns, "--wait=false"]);
    await kubectl(["delete", "pv", `deployed-pv-${process.pid}`, "--wait=false"]);
    await kubectl(["delete", "service", "served-http", "-n", ns, "--wait=false"]);
  }, 600_000);
});
