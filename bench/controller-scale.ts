/**
 * The controller at scale on a real kube-apiserver (the control-plane tier's
 * harness: etcd + kube-apiserver on 127.0.0.1, no node): N VirtualMachines
 * (runStrategy Always) created at once through the admission webhooks, the
 * time until N launcher pods exist, and the controller's RSS. Goal: 1000
 * pods within 30 s (KubeVirt publishes no figure for this; the goal is the
 * issue's).  Run: bun bench/controller-scale.ts [N]
 */
import { readFileSync } from "node:fs";
import { bunvirtCommand, freePort } from "../tests/lib/bunvirt.ts";
import { startControlPlane } from "../tests/lib/control-plane.ts";

const n = Number(process.argv[2] ?? 1000);
const goalSeconds = 30;
const ns = "scale";

function vm(i: number): object {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name: `vm-${i}`, namespace: ns },
    spec: {
      runStrategy: "Always",
      template: {
        metadata: { labels: { bench: "scale" } },
        spec: {
          domain: { devices: { disks: [{ name: "root", disk: { bus: "virtio" } }] }, resources: { requests: { memory: "64M" } } },
          volumes: [{ name: "root", containerDisk: { image: "registry.test/cirros:latest" } }],
        },
      },
    },
  };
}

const rssKiB = (pid: number, field: "VmRSS" | "VmHWM"): number => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? NaN);
};

/** User + system CPU seconds a process has used (/proc/PID/stat, clock ticks of 1/100 s). */
const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const cp = await startControlPlane();
let controller: Bun.Subprocess | undefined;
try {
  await cp.kubectlOk(["create", "namespace", "bunvirt"]);
  await cp.kubectlOk(["create", "namespace", ns]);
  await cp.kubectlOk(["create", "serviceaccount", "default", "-n", ns]);
  const health = freePort();
  const webhook = freePort();
  controller = Bun.spawn(
    [...bunvirtCommand(), "--role", "controller", "--kubeconfig", cp.adminKubeconfig, "--health-addr", `127.0.0.1:${health}`,
      "--webhook-addr", `127.0.0.1:${webhook}`, "--webhook-url", `https://127.0.0.1:${webhook}`],
    { stdin: "ignore", stdout: "ignore", stderr: process.env.BENCH_LOG === undefined ? "ignore" : Bun.file(process.env.BENCH_LOG), env: { PATH: process.env.PATH ?? "", HOME: cp.dir, POD_NAMESPACE: "bunvirt", REST_DEBUG: process.env.REST_DEBUG ?? "" } },
  );
  for (let i = 0; i < 600; i++) {
    if ((await fetch(`http://127.0.0.1:${health}/readyz`).catch(() => null))?.status === 200) break;
    await Bun.sleep(100);
  }
  const idleKiB = rssKiB(controller.pid, "VmRSS");
  const tls = { ca: readFileSync(`${cp.pki}/ca.crt`), cert: readFileSync(`${cp.pki}/admin.crt`), key: readFileSync(`${cp.pki}/admin.key`) };
  const post = async (body: object): Promise<void> => {
    const r = await fetch(`${cp.server}/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachines`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), tls });
    if (r.status !== 201) throw new Error(`Cannot create a VM: ${r.status} ${await r.text()}`);
  };
  // Metadata only: 1000 pods' full JSON on every poll would load the API server more than the controller.
  const countPods = async (): Promise<number> => {
    const r = await fetch(`${cp.server}/api/v1/namespaces/${ns}/pods?labelSelector=kubevirt.io%3Dvirt-launcher`, {
      tls,
      headers: { accept: "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io" },
    });
    return ((await r.json()) as { items: unknown[] | null }).items?.length ?? 0;
  };
  console.log(`controller scale: ${n} VMs created at once (50 requests in flight), until ${n} launcher pods exist (goal: ≤ ${goalSeconds} s)`);
  const cpu0 = { controller: cpuSeconds(controller.pid), plane: cp.pids.reduce((t, p) => t + cpuSeconds(p), 0) };
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (next < n) await post(vm(next++));
  }));
  const created = (performance.now() - t0) / 1000;
  let pods = 0;
  let peakKiB = 0;
  while (pods < n && performance.now() - t0 < 600_000) {
    peakKiB = Math.max(peakKiB, rssKiB(controller.pid, "VmRSS"));
    pods = await countPods();
    if (pods < n) await Bun.sleep(200);
  }
  const total = (performance.now() - t0) / 1000;
  const afterKiB = rssKiB(controller.pid, "VmRSS");
  const cpu = { controller: cpuSeconds(controller.pid) - cpu0.controller, plane: cp.pids.reduce((t, p) => t + cpuSeconds(p), 0) - cpu0.plane };
  const mib = (k: number): string => `${(k / 1024).toFixed(0)} MiB`;
  console.log(`  VMs created (through the webhooks)   ${created.toFixed(1).padStart(6)} s`);
  console.log(`  ${pods} launcher pods exist after     ${total.toFixed(1).padStart(6)} s   (goal ≤ ${goalSeconds} s: ${total <= goalSeconds ? "met" : "NOT met"})`);
  console.log(`  CPU used: controller ${cpu.controller.toFixed(1)} s, etcd + kube-apiserver ${cpu.plane.toFixed(1)} s (${navigator.hardwareConcurrency} cores, shared)`);
  console.log(`  controller RSS idle / peak / after   ${mib(idleKiB)} / ${mib(Math.max(peakKiB, afterKiB))} / ${mib(afterKiB)}   (KubeVirt's virt-controller: no published figure)`);
} finally {
  controller?.kill("SIGTERM");
  await controller?.exited;
  await cp.stop();
}
