/**
 * End to end through kubectl (tests/lib/e2e-target.ts): on the cluster tier's
 * node by default (tests/lib/e2e-cluster.ts: the controller with its webhooks
 * and the handler run as processes on the host, the handler with the node's
 * kubelet directory, the guest's registry on the host end of the node's veth), or on any
 * cluster where bunvirt is deployed (BUNVIRT_E2E_KUBECONFIG=FILE; see README).
 *
 * - The seed manifest (v1alpha1, through the conversion webhook) becomes a VMI
 *   whose launcher pod runs under the kubelet; the handler pulls the container
 *   disk and syncs the launcher; the VMI is Running, the guest's serial console
 *   (read by kubectl exec in the launcher pod) shows it booted; deleting the
 *   VM powers the guest off (ACPI, within its grace period) and removes the
 *   pod and the VMI.
 * - examples/vm-v1.yaml (KubeVirt's user-guide style: masquerade, no ports
 *   declared, so all are forwarded) reaches Running; its guest answers at the
 *   pod IP on 8080 and 22 from a node (a hostNetwork pod running nc);
 *   `kubectl get vm,vmi` shows KubeVirt's printer columns with values;
 *   `kubectl describe vm` shows the lifecycle Events; runStrategy patched
 *   Always → Halted powers the guest off by ACPI and removes the VMI and the
 *   pod (Stopped), Halted → Always starts a new VMI whose guest answers again.
 * - On the test node only: the kubelet removes a gone pod's directory; a
 *   handler that stops takes its node's schedulable mark away; the handler's
 *   /metrics (valid exposition text) shows the v1 VM's vCPU time, NIC and
 *   disk figures in KubeVirt's names and labels, growing between scrapes.
 * - evictionStrategy without migration: LiveMigrate puts a PodDisruptionBudget
 *   (owned by the pod) on the launcher pod and an eviction is refused; None
 *   lets the eviction through and the VM's runStrategy starts a new VMI.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../lib/bunvirt.ts";
import type { Obj } from "../lib/e2e-cluster.ts";
import { until } from "../lib/e2e-cluster.ts";
import { type E2eTarget, type Follower, startTarget, targetSkip } from "../lib/e2e-target.ts";
import { type Exposition, parseExposition, samplesOf } from "../lib/prometheus-text.ts";
import { capabilityMask, processTable } from "../lib/capabilities.ts";
import { launcherCapabilities } from "../../src/roles/controller/launcher-pod.ts";

const skip = targetSkip("cluster end-to-end");
const onNode = (process.env.BUNVIRT_E2E_KUBECONFIG ?? "") === "";
const needsNode = "needs the test node's internals (its kubelet directory, the handler's process): runs only without BUNVIRT_E2E_KUBECONFIG";
if (skip === null && !onNode) console.warn(`cluster end-to-end: the node-only tests skip: ${needsNode}`);
const seed = join(repoRoot, "examples/vm-v1alpha1.yaml");
const vmV1 = join(repoRoot, "examples/vm-v1.yaml");
/** Manifests the suite writes; kept until the target has deleted what it applied from them. */
const dir = mkdtempSync(join(tmpdir(), "bunvirt-e2e-"));

/** A `kubectl get` table: one object per row, keyed by the header's column names. */
function table(text: string): Record<string, string>[] {
  const [header, ...rows] = text.trim().split("\n");
  const names = header!.trim().split(/\s+/);
  return rows.map((r) => Object.fromEntries(r.trim().split(/\s+/).map((v, i) => [names[i] ?? `#${i}`, v])));
}

describe.skipIf(skip !== null)("cluster end to end", () => {
  let t: E2eTarget | undefined;
  const kubectl = (args: string[]) => t!.kubectlOk(args);
  const get = (kind: string, name: string) => t!.get(kind, name);
  const diagnostics = () => t!.diagnostics();

  /** Waits until the VMI runs, is Ready and its VM is Running; returns the VMI and its launcher pod. */
  async function running(name: string): Promise<{ vmi: Obj; pod: Obj }> {
    const vmi = await until(`the VMI ${name} Running`, 300, async () => {
      const v = await get("vmi", name);
      return v?.status?.phase === "Running" ? v : null;
    }, async () => `${JSON.stringify((await get("vmi", name))?.status)}\n${await diagnostics()}`);
    const pods = await t!.launcherPods(vmi.metadata.uid);
    expect(pods).toHaveLength(1);
    const pod = pods[0]!;
    expect(pod.status?.phase).toBe("Running");
    // The controller mirrors the pod into Ready once the handler made the VMI Running.
    await until(`the VMI ${name} Ready`, 120, async () => ((await get("vmi", name))?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? true : null), diagnostics);
    await until(`the VM ${name} printableStatus Running`, 60, async () => ((await get("vm", name))?.status?.printableStatus === "Running" ? true : null), diagnostics);
    return { vmi, pod };
  }

  /** Waits until the serial console shows the line (a regexp source matched on a whole line). */
  const serialLine = (serial: Follower, line: string, seconds: number) =>
    until(line, seconds, async () => (new RegExp(`^${line}\\r?$`, "m").test(serial.text) ? true : null), async () => serial.text.slice(-3000));

  async function gone(name: string, podUid: string): Promise<void> {
    await until(`the VMI ${name} gone`, 300, async () => ((await get("vmi", name)) === null ? true : null), diagnostics);
    await until(`the launcher pod of ${name} gone`, 300, async () => {
      const pods = JSON.parse(await kubectl(["get", "pods", "-n", t!.namespace, "-o", "json"])) as { items: Obj[] };
      return pods.items.some((p) => p.metadata.uid === podUid) ? null : true;
    }, diagnostics);
  }

  beforeAll(async () => {
    t = await startTarget();
  }, 900_000);

  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  test("a handler marks its node schedulable with a heartbeat, and whether the kubelet's CPU manager is static (label cpumanager)", async () => {
    const nodes = JSON.parse(await kubectl(["get", "nodes", "-l", "kubevirt.io/schedulable=true", "-o", "json"])) as { items: { metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> } }[] };
    expect(nodes.items.length).toBeGreaterThan(0);
    for (const n of nodes.items) {
      expect(n.metadata.annotations?.["kubevirt.io/heartbeat"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(["true", "false"]).toContain(n.metadata.labels?.cpumanager ?? "missing");
    }
  });

  describe("the seed VM (v1alpha1)", () => {
    let podUid = "";
    let serial: Follower | undefined;
    let launcherLog: Follower | undefined;

    test("kubectl apply of the seed: the launcher pod runs under the kubelet and the VMI reaches Running", async () => {
      await t!.apply(seed);
      const { vmi, pod } = await running("myvm");
      expect(pod.spec?.nodeName).toBe((vmi.status as { nodeName?: string }).nodeName ?? "");
      expect((await kubectl(["get", "node", pod.spec!.nodeName!, "-o", "jsonpath={.metadata.labels.kubevirt\\.io/schedulable}"]))).toBe("true");
      podUid = pod.metadata.uid;
      serial = t!.followSerial(pod.metadata.name);
      launcherLog = t!.followLog(pod.metadata.name);
    }, 700_000);

    test("the launcher pod is not privileged: the launcher keeps only its capability list, QEMU runs as libvirt-qemu", async () => {
      expect(podUid).not.toBe("");
      const pods = JSON.parse(await kubectl(["get", "pods", "-n", t!.namespace, "-o", "json"])) as { items: Obj[] };
      const pod = pods.items.find((p) => p.metadata.uid === podUid)!;
      const spec = pod.spec as { securityContext?: { seccompProfile?: { type?: string } }; containers: { name: string; securityContext?: { privileged?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { add?: string[] } } }[] };
      const compute = spec.containers.find((c) => c.name === "compute")!;
      expect(compute.securityContext?.privileged ?? false).toBe(false);
      expect(compute.securityContext?.readOnlyRootFilesystem).toBe(true);
      expect(compute.securityContext?.capabilities?.add ?? []).not.toContain("SYS_ADMIN");
      expect(spec.securityContext?.seccompProfile?.type).toBe("RuntimeDefault");
      // Every process of the pod (one PID namespace): name, real uid, effective capabilities.
      const text = await kubectl(["exec", "-n", t!.namespace, pod.metadata.name, "-c", "compute", "--", "sh", "-c",
        'for s in /proc/[0-9]*/status; do n=; u=; c=; { while read -r k v rest; do case $k in Name:) n=$v;; Uid:) u=$v;; CapEff:) c=$v;; esac; done < "$s"; } 2>/dev/null; echo "$n $u $c"; done']);
      const procs = processTable(text);
      const launcher = procs.find((p) => p.name === "bunvirt");
      expect(launcher?.capEff).toBe(capabilityMask(launcherCapabilities));
      const qemu = procs.filter((p) => p.name.startsWith("qemu-system"));
      expect(qemu).toHaveLength(1);
      expect(qemu[0]!.uid).not.toBe(0);
      expect(qemu[0]!.capEff).toBe(0n);
      console.log(`cluster end-to-end: launcher CapEff ${launcher!.capEff.toString(16)} (${launcherCapabilities.join(",")}), QEMU uid ${qemu[0]!.uid}`);
    }, 120_000);

    test("the guest boots from the container disk and prints its serial markers", async () => {
      expect(podUid).not.toBe("");
      await serialLine(serial!, "bunvirt-guest: booted", 600);
      await serialLine(serial!, "bunvirt-guest: ready", 300);
      expect(serial!.text).toContain("bunvirt-guest: ssh-key: ssh-rsa AAAAB3NzaK8L93bWxnyp test@test.com");
    }, 1_000_000);

    test("deleting the VM powers the guest off and removes the launcher pod and the VMI", async () => {
      expect(podUid).not.toBe("");
      await kubectl(["delete", "vm", "myvm", "-n", t!.namespace, "--wait=false"]);
      await gone("myvm", podUid);
      expect(serial!.text).toMatch(/^bunvirt-guest: powering off\r?$/m);
      // Powered off by ACPI within its grace period, not destroyed (nor killed by the kubelet).
      await until("the end of the launcher's log", 60, async () => (launcherLog!.ended ? true : null));
      expect(launcherLog!.text).toContain("the VM ended: the guest powered off");
    }, 700_000);

    test.skipIf(!onNode)("the kubelet removes the gone pod's directory (its volumes, the socket)", async () => {
      expect(podUid).not.toBe("");
      // In its housekeeping, after the pod is gone.
      await until("the pod's directory removed by the kubelet", 120, async () => (existsSync(join(t!.node!.cluster.node.kubeletDir, "pods", podUid)) ? null : true));
    }, 200_000);
  });

  describe("a v1 VM as in KubeVirt's user guide (masquerade, every port forwarded)", () => {
    const name = "myvm-v1";
    let vmiUid = "";
    let pod: Obj | undefined;
    let serial: Follower | undefined;
    let launcherLog: Follower | undefined;

    test("kubectl apply: the VMI reaches Running and the guest is ready", async () => {
      await t!.apply(vmV1);
      const r = await running(name);
      vmiUid = r.vmi.metadata.uid;
      pod = r.pod;
      serial = t!.followSerial(pod.metadata.name);
      launcherLog = t!.followLog(pod.metadata.name);
      await serialLine(serial, "bunvirt-guest: ready", 600);
    }, 1_000_000);

    test("the guest answers at the pod IP on 8080 and 22, from a node", async () => {
      expect(pod).toBeDefined();
      const vmi = (await get("vmi", name))!;
      const ip = vmi.status?.interfaces?.[0]?.ipAddress ?? "";
      expect(ip).toBe(pod!.status?.podIP ?? "missing");
      expect(await t!.firstLine(ip, 8080)).toBe(`bunvirt-guest ${name}`);
      expect(await t!.firstLine(ip, 22)).toBe(`bunvirt-guest ${name}`);
    }, 600_000);

    test.skipIf(!onNode)("the handler's /metrics: the VMI's vCPU time and its interface's traffic in KubeVirt's names, growing between scrapes", async () => {
      expect(pod).toBeDefined();
      const handler = t!.node!.procs.find((p) => p.role === "handler")!;
      const scrape = async () => parseExposition(await (await fetch(`${handler.health}/metrics`)).text());
      const labels = { namespace: t!.namespace, name, node: pod!.spec!.nodeName! };
      const figures = (e: Exposition) => ({
        vcpu: samplesOf(e, "kubevirt_vmi_vcpu_seconds_total", labels).reduce((sum, s) => sum + s.value, 0),
        rx: samplesOf(e, "kubevirt_vmi_network_receive_bytes_total", { ...labels, interface: "default" }),
        tx: samplesOf(e, "kubevirt_vmi_network_transmit_bytes_total", { ...labels, interface: "default" }),
        read: samplesOf(e, "kubevirt_vmi_storage_read_traffic_bytes_total", { ...labels, drive: "containerdisk" }),
        rss: samplesOf(e, "kubevirt_vmi_memory_resident_bytes", labels),
        domain: samplesOf(e, "kubevirt_vmi_memory_domain_bytes", labels),
        up: samplesOf(e, "bunvirt_vmi_stats_up", labels),
        info: samplesOf(e, "kubevirt_vmi_info", { ...labels, phase: "running" }),
      });
      const first = figures(await scrape());
      expect(first.up.map((s) => s.value)).toEqual([1]);
      expect(first.info.map((s) => s.value)).toEqual([1]);
      expect(first.vcpu).toBeGreaterThan(0);
      expect(first.rx).toHaveLength(1);
      expect(first.tx).toHaveLength(1);
      expect(first.read[0]!.value).toBeGreaterThan(0);
      expect(first.rss[0]!.value).toBeGreaterThan(0);
      expect(first.domain).toHaveLength(1);
      // Traffic to the guest between the scrapes.
      const vmi = (await get("vmi", name))!;
      expect(await t!.firstLine(vmi.status!.interfaces![0]!.ipAddress!, 8080)).toBe(`bunvirt-guest ${name}`);
      let last: Exposition | undefined;
      const second = await until("the figures grown", 60, async () => {
        last = await scrape();
        const f = figures(last);
        return f.vcpu > first.vcpu && f.rx[0]!.value > first.rx[0]!.value && f.tx[0]!.value > first.tx[0]!.value ? f : null;
      });
      // Which memory figures libvirt had depends on the guest's balloon driver: reported, not asserted.
      const memory = [...new Set(last!.samples.filter((s) => s.name.startsWith("kubevirt_vmi_memory_") && s.labels.name === name).map((s) => `${s.name}=${s.value}`))];
      console.log(`handler /metrics for ${name}: vcpu ${first.vcpu} -> ${second.vcpu} s, rx ${first.rx[0]!.value} -> ${second.rx[0]!.value} B, tx ${first.tx[0]!.value} -> ${second.tx[0]!.value} B; ${memory.join(" ")}`);
    }, 300_000);

    test("kubectl get vm,vmi shows KubeVirt's printer columns with values", async () => {
      expect(pod).toBeDefined();
      const [vms, vmis] = (await kubectl(["get", "vm,vmi", name, "-n", t!.namespace])).trim().split(/\n\s*\n/);
      const vm = table(vms!);
      expect(Object.keys(vm[0]!)).toEqual(["NAME", "AGE", "STATUS", "READY"]);
      expect(vm[0]).toMatchObject({ NAME: `virtualmachine.kubevirt.io/${name}`, STATUS: "Running", READY: "True" });
      const vmi = table(vmis!);
      expect(Object.keys(vmi[0]!)).toEqual(["NAME", "AGE", "PHASE", "IP", "NODENAME", "READY"]);
      expect(vmi[0]).toMatchObject({ NAME: `virtualmachineinstance.kubevirt.io/${name}`, PHASE: "Running", IP: pod!.status!.podIP!, NODENAME: pod!.spec!.nodeName!, READY: "True" });
      for (const row of [...vm, ...vmi]) expect(row.AGE).toMatch(/^\d+[smhd]/);
    });

    test("runStrategy Always → Halted: the guest powers off by ACPI, the VMI and the pod go, the VM is Stopped", async () => {
      expect(pod).toBeDefined();
      await kubectl(["patch", "vm", name, "-n", t!.namespace, "--type", "merge", "-p", JSON.stringify({ spec: { runStrategy: "Halted" } })]);
      await gone(name, pod!.metadata.uid);
      await until(`the VM ${name} Stopped`, 120, async () => ((await get("vm", name))?.status?.printableStatus === "Stopped" ? true : null), diagnostics);
      expect(serial!.text).toMatch(/^bunvirt-guest: powering off\r?$/m);
      await until("the end of the launcher's log", 60, async () => (launcherLog!.ended ? true : null));
      expect(launcherLog!.text).toContain("the VM ended: the guest powered off");
    }, 700_000);

    test("runStrategy Halted → Always: a new VMI runs and its guest answers again", async () => {
      expect(vmiUid).not.toBe("");
      await kubectl(["patch", "vm", name, "-n", t!.namespace, "--type", "merge", "-p", JSON.stringify({ spec: { runStrategy: "Always" } })]);
      const r = await running(name);
      expect(r.vmi.metadata.uid).not.toBe(vmiUid);
      expect(r.pod.metadata.uid).not.toBe(pod!.metadata.uid);
      serial = t!.followSerial(r.pod.metadata.name);
      await serialLine(serial, "bunvirt-guest: ready", 600);
      expect(await t!.firstLine(r.pod.status!.podIP!, 8080)).toBe(`bunvirt-guest ${name}`);
      pod = r.pod;
    }, 1_000_000);

    test("kubectl describe vm shows the lifecycle Events", async () => {
      expect(pod).toBeDefined();
      const text = await kubectl(["describe", "vm", name, "-n", t!.namespace]);
      const events = text.slice(text.indexOf("\nEvents:"));
      expect(events).toMatch(/^\nEvents:/);
      // Started, stopped by the patch, started again: KubeVirt's reasons and messages.
      expect(events).toMatch(/Normal\s+SuccessfulCreate\s+.*Started the virtual machine by creating the new virtual machine instance myvm-v1/);
      expect(events).toMatch(new RegExp(`Normal\\s+SuccessfulDelete\\s+.*Stopped the virtual machine by deleting the virtual machine instance (${vmiUid}|${name})`));
    });

    test("deleting the VM removes the VMI and the pod", async () => {
      expect(pod).toBeDefined();
      await kubectl(["delete", "vm", name, "-n", t!.namespace, "--wait=false"]);
      await gone(name, pod!.metadata.uid);
      expect(await get("vm", name)).toBeNull();
    }, 700_000);
  });

  describe("evictionStrategy without migration", () => {
    /** examples/vm-v1.yaml under another name, with the strategy. */
    const manifest = (name: string, strategy: string): string => {
      const file = join(dir, `${name}.yaml`);
      const text = readFileSync(vmV1, "utf8").replaceAll("myvm-v1", name).replace("      terminationGracePeriodSeconds: 5\n", `      terminationGracePeriodSeconds: 5\n      evictionStrategy: ${strategy}\n`);
      if (!text.includes(`evictionStrategy: ${strategy}`)) throw new Error("Cannot place evictionStrategy in examples/vm-v1.yaml");
      writeFileSync(file, text);
      return file;
    };
    const evict = (pod: string) =>
      t!.kubectl(["create", "--raw", `/api/v1/namespaces/${t!.namespace}/pods/${pod}/eviction`, "-f", "-"], {
        stdin: JSON.stringify({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name: pod, namespace: t!.namespace } }),
      });

    test("LiveMigrate: the launcher pod has a disruption budget and its eviction is refused; the budget goes with the pod", async () => {
      const name = "evict-refused";
      await t!.apply(manifest(name, "LiveMigrate"));
      const { pod } = await running(name);
      const pdb = await until("the launcher pod's PodDisruptionBudget allows no disruption", 60, async () => {
        const r = await t!.kubectl(["get", "pdb", pod.metadata.name, "-n", t!.namespace, "-o", "json"]);
        const p = r.code === 0 ? (JSON.parse(r.stdout) as { metadata: { ownerReferences?: object[] }; status?: { currentHealthy?: number; disruptionsAllowed?: number } }) : null;
        return p !== null && p.status?.currentHealthy === 1 && p.status?.disruptionsAllowed === 0 ? p : null;
      }, diagnostics);
      expect(pdb.metadata.ownerReferences).toEqual([{ apiVersion: "v1", kind: "Pod", name: pod.metadata.name, uid: pod.metadata.uid }]);
      const r = await evict(pod.metadata.name);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("disruption budget");
      expect((await t!.launcherPods((await get("vmi", name))!.metadata.uid))[0]?.metadata.uid).toBe(pod.metadata.uid);
      await kubectl(["delete", "vm", name, "-n", t!.namespace, "--wait=false"]);
      await gone(name, pod.metadata.uid);
      await until("the budget gone with its pod", 120, async () => ((await t!.kubectl(["get", "pdb", pod.metadata.name, "-n", t!.namespace])).code !== 0 ? true : null), diagnostics);
    }, 1_000_000);

    test("None: no budget, the eviction goes through and the VM starts a new VMI", async () => {
      const name = "evict-allowed";
      await t!.apply(manifest(name, "None"));
      const { vmi, pod } = await running(name);
      expect((await t!.kubectl(["get", "pdb", pod.metadata.name, "-n", t!.namespace])).code).not.toBe(0);
      const r = await evict(pod.metadata.name);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      const next = await until("a new VMI after the eviction", 300, async () => {
        const v = await get("vmi", name);
        return v !== null && v.metadata.uid !== vmi.metadata.uid ? v : null;
      }, diagnostics);
      expect(next.metadata.uid).not.toBe(vmi.metadata.uid);
      const again = await running(name);
      await kubectl(["delete", "vm", name, "-n", t!.namespace, "--wait=false"]);
      await gone(name, again.pod.metadata.uid);
    }, 1_000_000);
  });

  test.skipIf(!onNode)("a handler that stops takes the node's schedulable mark away (test node only)", async () => {
    const handler = t!.node!.procs.find((p) => p.role === "handler")!;
    handler.proc.kill("SIGTERM");
    expect(await handler.proc.exited).toBe(0);
    const nodeName = t!.node!.cluster.node.name;
    expect(await kubectl(["get", "node", nodeName, "-o", "jsonpath={.metadata.labels.kubevirt\\.io/schedulable}"])).toBe("false");
  });
});
