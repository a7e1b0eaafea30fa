/**
 * End to end on the cluster tier's node (tests/lib/cluster-node.ts): the
 * controller (webhooks + reconcile) and the handler run as processes on the
 * host, the handler with the node's kubelet directory; the seed manifest
 * (v1alpha1, through the conversion webhook) becomes a VMI whose launcher pod
 * runs under the kubelet; the handler pulls the container disk from a
 * registry on the host's 127.0.0.1 into the pod's own cache and syncs the
 * launcher; the VMI is Running, the guest's serial console shows it booted;
 * deleting the VM powers the guest off (ACPI, within its grace period) and
 * removes the pod and the VMI; a handler that stops marks its node
 * unschedulable. The cluster and the roles: tests/lib/e2e-cluster.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../lib/bunvirt.ts";
import { clusterTier, nodeName } from "../lib/cluster-node.ts";
import { k8sBin } from "../lib/control-plane.ts";
import { collect, type E2eCluster, type Obj, type RoleProc, startE2e, until } from "../lib/e2e-cluster.ts";
import { command, hostTier } from "../lib/host.ts";

const skip = clusterTier("cluster end-to-end")
  ?? hostTier("cluster end-to-end (guest registry)", [command("docker-registry", "docker-registry"), command("skopeo", "skopeo"), command("umoci", "umoci"), command("curl", "curl")]);
const seed = join(repoRoot, "examples/vm-v1alpha1.yaml");

describe.skipIf(skip !== null)("cluster end to end: the seed VM on a real node", () => {
  let e: E2eCluster | undefined;
  let podUid = "";
  let consoleLog = "";
  /** The serial console as last read (the pod's directory goes with the pod). */
  let serial = "";
  let reading: ReturnType<typeof setInterval> | undefined;

  const kubectl = (args: string[]) => e!.kubectlOk(args);
  const get = (kind: string, name: string) => e!.get(kind, name);
  const logs = () => e!.logs();

  beforeAll(async () => {
    e = await startE2e();
  }, 900_000);

  afterAll(async () => {
    if (reading !== undefined) clearInterval(reading);
    await e?.stop();
  }, 300_000);

  test("the handler marks its node schedulable with a heartbeat", async () => {
    const node = JSON.parse(await kubectl(["get", "node", nodeName, "-o", "json"])) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    expect(node.metadata.labels["kubevirt.io/schedulable"]).toBe("true");
    expect(node.metadata.annotations["kubevirt.io/heartbeat"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test("kubectl apply of the seed: the launcher pod runs under the kubelet and the VMI reaches Running", async () => {
    await kubectl(["apply", "-n", "default", "-f", seed]);
    const vmi = await until("the VMI Running", 300, async () => {
      const v = await get("vmi", "myvm");
      return v?.status?.phase === "Running" ? v : null;
    }, async () => `${JSON.stringify((await get("vmi", "myvm"))?.status)}\n${await kubectl(["get", "pods", "-A", "-o", "wide"]).catch(() => "")}\n${await logs()}`);
    const pods = JSON.parse(await kubectl(["get", "pods", "-n", "default", "-l", `kubevirt.io/created-by=${vmi.metadata.uid}`, "-o", "json"])) as { items: Obj[] };
    expect(pods.items).toHaveLength(1);
    const pod = pods.items[0]!;
    expect(pod.spec?.nodeName).toBe(nodeName);
    expect(pod.status?.phase).toBe("Running");
    podUid = pod.metadata.uid;
    // The launcher's log, followed through the API server and the kubelet, for failure messages and BUNVIRT_E2E_LOG_DIR.
    const follow = Bun.spawn([join(k8sBin, "kubectl"), `--kubeconfig=${e!.cluster.controlPlane.adminKubeconfig}`, "logs", "-f", "-n", "default", pod.metadata.name], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    e!.procs.push({ role: "launcher", proc: follow as unknown as RoleProc["proc"], health: "", log: collect(follow.stdout) });
    consoleLog = join(e!.cluster.node.kubeletDir, "pods", podUid, "volumes/kubernetes.io~empty-dir/bunvirt-state/console/serial0.log");
    reading = setInterval(() => {
      try {
        if (existsSync(consoleLog)) serial = readFileSync(consoleLog, "utf8");
      } catch {
        // The pod's directory is going away: keep what was read.
      }
    }, 100);
    // The controller mirrors the pod into Ready once the handler made the VMI Running.
    await until("the VMI Ready", 120, async () => ((await get("vmi", "myvm"))?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? true : null));
    await until("the VM printableStatus Running", 60, async () => {
      const v = JSON.parse(await kubectl(["get", "vm", "myvm", "-n", "default", "-o", "json"])) as { status?: { printableStatus?: string } };
      return v.status?.printableStatus === "Running" ? true : null;
    });
  }, 700_000);

  test("the guest boots from the container disk and prints its serial markers", async () => {
    expect(podUid).not.toBe("");
    await until("bunvirt-guest: booted on the serial console", 600, async () => (/^bunvirt-guest: booted\r?$/m.test(serial) ? true : null), async () => serial.slice(-3000));
    await until("bunvirt-guest: ready on the serial console", 300, async () => (/^bunvirt-guest: ready\r?$/m.test(serial) ? true : null), async () => serial.slice(-3000));
    expect(serial).toContain("bunvirt-guest: ssh-key: ssh-rsa AAAAB3NzaK8L93bWxnyp test@test.com");
  }, 1_000_000);

  test("deleting the VM powers the guest off and removes the launcher pod and the VMI", async () => {
    expect(podUid).not.toBe("");
    await kubectl(["delete", "vm", "myvm", "-n", "default", "--wait=false"]);
    await until("the VMI gone", 300, async () => ((await get("vmi", "myvm")) === null ? true : null), logs);
    await until("the launcher pod gone", 300, async () => {
      const pods = JSON.parse(await kubectl(["get", "pods", "-n", "default", "-o", "json"])) as { items: Obj[] };
      return pods.items.some((p) => p.metadata.uid === podUid) ? null : true;
    });
    expect(serial).toMatch(/^bunvirt-guest: powering off\r?$/m);
    // Powered off by ACPI within its grace period, not destroyed (nor killed by the kubelet).
    const launcher = e!.procs.find((p) => p.role === "launcher")!;
    await until("the end of the launcher's log", 60, async () => (launcher.proc.exitCode !== null ? true : null));
    expect(launcher.log.text).toContain("the VM ended: the guest powered off");
    // The kubelet removes the pod's directory (its volumes, the socket) in its housekeeping after the pod is gone.
    await until("the pod's directory removed by the kubelet", 120, async () => (existsSync(join(e!.cluster.node.kubeletDir, "pods", podUid)) ? null : true));
  }, 700_000);

  test("a handler that stops takes the node's schedulable mark away", async () => {
    const handler = e!.procs.find((p) => p.role === "handler")!;
    handler.proc.kill("SIGTERM");
    expect(await handler.proc.exited).toBe(0);
    const node = JSON.parse(await kubectl(["get", "node", nodeName, "-o", "json"])) as { metadata: { labels: Record<string, string> } };
    expect(node.metadata.labels["kubevirt.io/schedulable"]).toBe("false");
  });
});
