/**
 * KubeVirt's fault scenarios on the cluster tier's real node
 * (tests/lib/e2e-cluster.ts), one cluster for the file, in order:
 * - the handler killed (SIGKILL) while a VM runs: the domain keeps running
 *   (the launcher answers "running" through its socket); restarted, the
 *   handler finds the VMI Running with the same uid and pod, its status as
 *   it was;
 * - the launcher's compute container killed: the VMI fails, runStrategy
 *   Always starts a new one; a new VMI killed before it ran (the handler
 *   held with SIGSTOP so the kill lands before Running) counts as a start
 *   failure: the VM goes CrashLoopBackOff and the second delay is longer;
 * - two controllers, the leader killed with SIGKILL: the standby takes the
 *   Lease, registers the webhooks with the CA they share, and a VM made
 *   after the takeover runs; one VMI and one live pod per VM;
 * - the handler's heartbeat stopped (handler SIGKILLed) and a VMI's launcher
 *   container killed: nobody reports it until the heartbeat is older than
 *   the controller's --node-heartbeat-timeout; then the node's schedulable
 *   label is false and that VMI is Failed (NodeUnresponsive) while the VMIs
 *   whose pods still run stay Running. (Deleting the pod instead would fail
 *   the VMI at once as PodNotExists, the VMI controller's rule, whatever the
 *   heartbeat.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { repoRoot } from "../lib/bunvirt.ts";
import { clusterTier, nodeName } from "../lib/cluster-node.ts";
import { k8sBin } from "../lib/control-plane.ts";
import { collect, type E2eCluster, type Obj, type RoleProc, startE2e, until } from "../lib/e2e-cluster.ts";
import { command, hostTier } from "../lib/host.ts";
import { launcherSocketOnNode } from "../../src/roles/controller/launcher-pod.ts";

const skip = clusterTier("cluster faults")
  ?? hostTier("cluster faults (guest registry)", [command("docker-registry", "docker-registry"), command("skopeo", "skopeo"), command("umoci", "umoci")]);
const vmV1 = readFileSync(join(repoRoot, "examples/vm-v1.yaml"), "utf8");
/** Heartbeats come every 60 s: the second controller's timeout leaves a live handler room. */
const heartbeatTimeout = 90;

const vmManifest = (name: string): string => vmV1.replaceAll("myvm-v1", name);
/** A bare VMI with the example VM's template. */
const vmiManifest = (name: string): string => {
  const vm = parse(vmV1) as { spec: { template: { spec: object } } };
  return JSON.stringify({ apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", metadata: { name }, spec: vm.spec.template.spec });
};

interface VmStatus {
  printableStatus?: string;
  startFailure?: { consecutiveFailCount: number; retryAfterTimestamp?: string };
}

type PodObj = Omit<Obj, "status"> & {
  status?: { phase?: string; containerStatuses?: { name: string; containerID?: string; state?: { running?: object; terminated?: { exitCode: number } } }[] };
};

describe.skipIf(skip !== null)("cluster faults: handler, launcher, leader and heartbeat", () => {
  let e: E2eCluster | undefined;
  /** Every VMI event in the namespace as "name uid phase reason" lines (phases a poll could miss). */
  let vmiEvents: { text: string } = { text: "" };
  let handler: RoleProc | undefined;
  const kubectl = (args: string[]) => e!.kubectlOk(args);
  const logs = () => e!.logs();

  beforeAll(async () => {
    e = await startE2e({ roles: false });
    // The device plugins in a process of their own: the tests hold (SIGSTOP) and kill the handler,
    // and the kubelet must still get /dev/net/tun for the next launcher pod meanwhile.
    const devices = e.startRole("handler", [...e.handlerArgs(), "--device-plugins", "only"], "devices");
    const controller = e.startRole("controller", e.controllerArgs());
    for (const p of [devices, controller]) await e.ready(p);
    await startHandler();
    const w = Bun.spawn([join(k8sBin, "kubectl"), `--kubeconfig=${e.cluster.controlPlane.adminKubeconfig}`, "get", "vmi", "-n", "default", "-w",
      "-o", 'jsonpath={.metadata.name} {.metadata.uid} {.status.phase} {.status.reason}{"\\n"}'], { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    e.procs.push({ role: "vmi-watch", proc: w as unknown as RoleProc["proc"], health: "", log: vmiEvents = collect(w.stdout) });
  }, 900_000);

  afterAll(async () => {
    handler?.proc.kill("SIGCONT");
    await e?.stop();
  }, 300_000);

  const vmi = (name: string) => e!.get("vmi", name);
  const vm = async (name: string): Promise<VmStatus> => ((await e!.get("vm", name)) as { status?: VmStatus } | null)?.status ?? {};
  const podsOf = async (vmiUid: string): Promise<PodObj[]> =>
    (JSON.parse(await kubectl(["get", "pods", "-n", "default", "-l", `kubevirt.io/created-by=${vmiUid}`, "-o", "json"])) as { items: PodObj[] }).items;
  const runningVmi = (name: string, notUid = "") => until(`VMI ${name} Running`, 600, async () => {
    const v = await vmi(name);
    return v?.status?.phase === "Running" && v.metadata.uid !== notUid ? v : null;
  }, async () => `${JSON.stringify((await vmi(name))?.status)}\n${await logs()}`);
  const computeId = (pod: PodObj): string | null => {
    const id = pod.status?.containerStatuses?.find((c) => c.name === "compute" && c.state?.running !== undefined)?.containerID;
    return id === undefined ? null : id.replace(/^containerd:\/\//, "");
  };
  const killCompute = async (pod: PodObj): Promise<void> => {
    const id = computeId(pod);
    if (id === null) throw new Error(`Cannot kill the compute container of pod "${pod.metadata.name}": it is not running`);
    const r = await e!.cluster.node.ctr(["tasks", "kill", "-s", "SIGKILL", id]);
    if (r.code !== 0) throw new Error(`Cannot kill the compute container "${id}": ${r.stderr}`);
  };
  const launcherStatus = async (podUid: string): Promise<{ state: string; startedAt?: string }> => {
    const res = await fetch("http://launcher/v1/status", { unix: launcherSocketOnNode(podUid, e!.cluster.node.kubeletDir) });
    return (await res.json()) as { state: string; startedAt?: string };
  };
  const startHandler = async (): Promise<void> => {
    handler = e!.startRole("handler", [...e!.handlerArgs(), "--device-plugins", "false"]);
    await e!.ready(handler);
  };

  test("the handler killed while the VM runs: the domain keeps running; restarted, it finds the VMI as it was", async () => {
    await e!.kubectlOk(["apply", "-n", "default", "-f", "-"], { stdin: vmManifest("fault-a") });
    const before = await runningVmi("fault-a");
    const [pod] = await podsOf(before.metadata.uid);
    expect(pod).toBeDefined();
    const serial = join(e!.cluster.node.kubeletDir, "pods", pod!.metadata.uid, "volumes/kubernetes.io~empty-dir/bunvirt-state/console/serial0.log");
    await until("the guest ready on its serial console", 600, async () => (existsSync(serial) && /^bunvirt-guest: ready\r?$/m.test(readFileSync(serial, "utf8")) ? true : null));
    const domain = await launcherStatus(pod!.metadata.uid);
    expect(domain.state).toBe("running");

    handler!.proc.kill("SIGKILL");
    await handler!.proc.exited;
    // Nothing of the VM hangs on the handler: the domain still runs, same start.
    const meanwhile = await launcherStatus(pod!.metadata.uid);
    expect(meanwhile.state).toBe("running");
    expect(meanwhile.startedAt).toBe(domain.startedAt!);

    await startHandler();
    const after = (await vmi("fault-a"))!;
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.status?.phase).toBe("Running");
    expect(after.status?.interfaces).toEqual(before.status?.interfaces!);
    expect((await podsOf(before.metadata.uid)).map((p) => p.metadata.uid)).toEqual([pod!.metadata.uid]);
    expect((await launcherStatus(pod!.metadata.uid)).startedAt).toBe(domain.startedAt!);
    expect(vmiEvents.text).not.toMatch(new RegExp(`^fault-a ${before.metadata.uid} (Failed|Succeeded)`, "m"));
  }, 1_200_000);

  test("the launcher's container killed: the VMI fails and runStrategy Always starts a new one", async () => {
    const first = (await vmi("fault-a"))!;
    const [pod] = await podsOf(first.metadata.uid);
    await killCompute(pod!);
    await until("the killed VMI Failed", 300, async () => (new RegExp(`^fault-a ${first.metadata.uid} Failed LauncherExited$`, "m").test(vmiEvents.text) ? true : null), async () => `${vmiEvents.text}\n${await logs()}`);
    const second = await runningVmi("fault-a", first.metadata.uid);
    expect(second.metadata.uid).not.toBe(first.metadata.uid);
    expect(await podsOf(second.metadata.uid)).toHaveLength(1);
    // It had run: no start failure is counted.
    expect((await vm("fault-a")).startFailure).toBeUndefined();
  }, 900_000);

  test("VMIs killed before they run count as start failures: CrashLoopBackOff, and the delay grows", async () => {
    const delays: number[] = [];
    const running = (await vmi("fault-a"))!.metadata.uid;
    await killCompute((await podsOf(running))[0]!);
    // The handler reports that one (it had run: no start failure); then it is held, so it cannot make the
    // next VMI Running before that one's container is killed.
    await until("the running VMI Failed", 300, async () => (new RegExp(`^fault-a ${running} Failed LauncherExited$`, "m").test(vmiEvents.text) ? true : null), async () => `${vmiEvents.text}\n${await logs()}`);
    handler!.proc.kill("SIGSTOP");
    let last = running;
    try {
      for (let round = 1; round <= 2; round++) {
        const next = await until(`a new VMI scheduled with its compute container running (round ${round})`, 600, async () => {
          const v = await vmi("fault-a");
          if (v === null || v.metadata.uid === last || v.status?.phase !== "Scheduled") return null;
          const [p] = await podsOf(v.metadata.uid);
          return p !== undefined && computeId(p) !== null ? { v, p } : null;
        }, async () => `${JSON.stringify(await vm("fault-a"))}\n${vmiEvents.text}\n${await logs()}`);
        last = next.v.metadata.uid;
        await killCompute(next.p);
        await until("the compute container ended", 120, async () => ((await podsOf(last))[0]?.status?.containerStatuses?.find((c) => c.name === "compute")?.state?.terminated !== undefined ? true : null));
        // Let the handler report it, then hold it again.
        handler!.proc.kill("SIGCONT");
        const failure = await until(`start failure ${round} counted`, 300, async () => {
          const s = await vm("fault-a");
          return (s.startFailure?.consecutiveFailCount ?? 0) === round ? s.startFailure! : null;
        }, async () => `${JSON.stringify(await vm("fault-a"))}\n${vmiEvents.text}\n${await logs()}`);
        handler!.proc.kill("SIGSTOP");
        expect(vmiEvents.text).toMatch(new RegExp(`^fault-a ${last} Failed LauncherExited$`, "m"));
        delays.push(Date.parse(failure.retryAfterTimestamp!) - Date.now());
        await until("printableStatus CrashLoopBackOff", 120, async () => ((await vm("fault-a")).printableStatus === "CrashLoopBackOff" ? true : null));
      }
    } finally {
      handler!.proc.kill("SIGCONT");
    }
    // KubeVirt's backoff: 10-15 s after the first failure, 40-60 s after the second.
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    // Once the backoff is over a new VMI follows and, the handler free again, runs.
    await runningVmi("fault-a", last);
  }, 1_500_000);

  test("the leader controller killed: the standby takes over with the shared CA; a new VM runs; one VMI and one pod per VM", async () => {
    const leader = e!.procs.find((p) => p.role === "controller")!;
    const args = e!.controllerArgs({ newWebhookPort: true });
    const standbyUrl = args[args.indexOf("--webhook-url") + 1]!;
    const standby = e!.startRole("controller", [...args, "--node-heartbeat-timeout", String(heartbeatTimeout)], "controller-2");
    await until("the second controller standing by", 120, async () => {
      const r = await fetch(`${standby.health}/readyz`);
      const body = await r.text();
      return r.status === 503 && body.includes("leader: standby") && !body.includes("webhooks:") ? true : null;
    }, logs);
    const aBefore = (await vmi("fault-a"))!;
    leader.proc.kill("SIGKILL");
    await leader.proc.exited;
    await e!.ready(standby, 120);
    // Ready: leading, with the webhooks registered at its own address.
    const registered = JSON.parse(await kubectl(["get", "validatingwebhookconfiguration", "bunvirt-validator", "-o", "json"])) as { webhooks: { clientConfig: { url: string } }[] };
    expect(registered.webhooks[0]!.clientConfig.url).toStartWith(standbyUrl);
    // Admission answers through the new leader: the VM is defaulted and runs.
    await e!.kubectlOk(["apply", "-n", "default", "-f", "-"], { stdin: vmManifest("fault-c") });
    await runningVmi("fault-c");
    const a = (await vmi("fault-a"))!;
    expect(a.metadata.uid).toBe(aBefore.metadata.uid);
    expect(a.status?.phase).toBe("Running");
    const vmis = JSON.parse(await kubectl(["get", "vmi", "-n", "default", "-o", "json"])) as { items: Obj[] };
    expect(vmis.items.map((v) => v.metadata.name).sort()).toEqual(["fault-a", "fault-c"]);
    for (const v of vmis.items) {
      const live = (await podsOf(v.metadata.uid)).filter((p) => p.status?.phase !== "Failed" && p.status?.phase !== "Succeeded");
      expect(live).toHaveLength(1);
    }
  }, 1_200_000);

  test("the heartbeat stopped: the dead handler's node goes unschedulable and its VMI without a live pod Failed (NodeUnresponsive)", async () => {
    await e!.kubectlOk(["apply", "-n", "default", "-f", "-"], { stdin: vmiManifest("fault-d") });
    const d = await runningVmi("fault-d");
    const [pod] = await podsOf(d.metadata.uid);
    handler!.proc.kill("SIGKILL");
    await handler!.proc.exited;
    await killCompute(pod!);
    // The pod is down but nobody says so of the VMI: the controller leaves a Running VMI with a pod to the handler.
    await until("the launcher pod Failed", 120, async () => ((await podsOf(d.metadata.uid))[0]?.status?.phase === "Failed" ? true : null));
    expect((await vmi("fault-d"))?.status?.phase).toBe("Running");
    // Once the heartbeat is older than the timeout, the controller's node check acts.
    const failed = await until("fault-d Failed", heartbeatTimeout + 300, async () => {
      const v = await vmi("fault-d");
      return v?.status?.phase === "Failed" ? v : null;
    }, logs);
    expect(failed.status?.reason).toBe("NodeUnresponsive");
    const node = JSON.parse(await kubectl(["get", "node", nodeName, "-o", "json"])) as { metadata: { labels: Record<string, string> } };
    expect(node.metadata.labels["kubevirt.io/schedulable"]).toBe("false");
    // The VMIs whose launchers still run are not touched.
    for (const name of ["fault-a", "fault-c"]) expect((await vmi(name))?.status?.phase).toBe("Running");
    const events = await kubectl(["get", "events", "-n", "default", "--field-selector", "reason=NodeUnresponsive", "-o", "jsonpath={.items[*].involvedObject.name}"]);
    expect(events.split(" ")).toContain("fault-d");
  }, 900_000);
});
