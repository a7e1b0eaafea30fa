/**
 * A burst of VMs on the cluster tier's real node under TCG (the e2e cluster
 * of tests/lib/e2e-cluster.ts: kubelet + containerd, the controller and the
 * handler as processes, the guest's containerDisk from the harness's
 * registry): N VirtualMachines (runStrategy Always, 128Mi) created at once,
 * per VM the time from its create to the VMI's phase Running (the handler's
 * status write), to the launcher pod Running and to the guest's first serial
 * byte; p50 / p95 / max next to the goal (≤ 3 s / ≤ 6 s) and KubeVirt's own
 * figure (100 VMIs: p50 ≈ 18 s), and where the time goes: each stage's
 * median offset from the create, from watch events (ms), the roles' logs
 * (ms) and the launchers' container logs. Cleans up everything.
 *
 * Run (as root, under the heavy-test lock, after `bun run build`):
 *   flock /tmp/bunvirt-host.lock bun bench/cluster-burst.ts [N]
 * BURST_LOG_DIR=DIR keeps the roles', the launchers', the kubelet's and
 * containerd's logs there.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { kubeFetch } from "../src/kube/api-client.ts";
import { Informer, type KubeObject } from "../src/kube/informer.ts";
import { startE2e, until, type E2eCluster } from "../tests/lib/e2e-cluster.ts";

const n = Number(process.argv[2] ?? 10);
const ns = "burst";
const goal = { p50: 3, p95: 6 };
const kubevirtP50 = 18;

function vm(i: number): object {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name: `burst-${i}`, namespace: ns },
    spec: {
      runStrategy: "Always",
      template: {
        metadata: { labels: { bench: "burst" } },
        spec: {
          terminationGracePeriodSeconds: 5,
          domain: {
            cpu: { cores: 1 },
            memory: { guest: "128Mi" },
            devices: { disks: [{ name: "containerdisk", disk: { bus: "virtio" } }], interfaces: [{ name: "default", masquerade: {} }] },
          },
          networks: [{ name: "default", pod: {} }],
          volumes: [{ name: "containerdisk", containerDisk: { image: "kubevirt/cirros-registry-disk-demo:devel" } }],
        },
      },
    },
  };
}

type Pod = KubeObject & {
  metadata: { labels?: Record<string, string> };
  spec?: { nodeName?: string };
  status?: { containerStatuses?: { name: string; state?: { running?: object } }[] };
};
type Vmi = KubeObject & { status?: { phase?: string } };

/** VM name -> stage -> epoch ms when first seen. */
const seen = new Map<string, Map<string, number>>();
const mark = (vm: string | undefined, stage: string, at = Date.now()): void => {
  if (vm === undefined) return;
  const m = seen.get(vm) ?? new Map<string, number>();
  seen.set(vm, m);
  if (!m.has(stage)) m.set(stage, at);
};

/** CPU seconds the pod's cgroup has used (cgroup v1 cpuacct; the kubelet's cgroupfs driver), or NaN. */
function podCpuSeconds(uid: string): number {
  for (const qos of ["burstable", "besteffort", ""]) {
    const file = join("/sys/fs/cgroup/cpuacct/kubepods", qos, `pod${uid}`, "cpuacct.usage");
    if (existsSync(file)) return Number(readFileSync(file, "utf8")) / 1e9;
  }
  return NaN;
}

/** The pod's processes' CPU seconds by command name, with what they waited for (cutime/cstime: e.g. libvirtd's QEMU probe). */
function podCpuByCommand(uid: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const qos of ["burstable", "besteffort", ""]) {
    const dir = join("/sys/fs/cgroup/cpuacct/kubepods", qos, `pod${uid}`);
    if (!existsSync(dir)) continue;
    const walk = (d: string): void => {
      for (const pid of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
          const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
          const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
          out.set(comm, (out.get(comm) ?? 0) + (f[11]! + f[12]! + f[13]! + f[14]!) / 100);
        } catch {
          // Gone meanwhile.
        }
      }
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    };
    walk(dir);
  }
  return out;
}

/** Busy and total jiffies of the machine (/proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
};
const sec = (ms: number): string => (Number.isNaN(ms) ? "   -  " : (ms / 1000).toFixed(2).padStart(6));

/** "2026-…Z role: msg" lines of a role's log -> [epoch ms, msg]. */
function logLines(text: string): [number, string][] {
  const out: [number, string][] = [];
  for (const line of text.split("\n")) {
    const m = /(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z) \S+: (.*)$/.exec(line);
    if (m !== null) out.push([Date.parse(m[1]!), m[2]!]);
  }
  return out;
}

let e: E2eCluster | undefined;
const informers: Informer<KubeObject>[] = [];
/** Pod uid -> VM name, for the serial logs and the launchers' logs. */
const podsOf = new Map<string, { vm: string; name: string }>();
let serialTimer: ReturnType<typeof setInterval> | undefined;
/** VM name -> its launcher pod's CPU seconds when its VMI was seen Running. */
const cpuAtRunning = new Map<string, number>();
/** VM name -> its launcher pod's CPU seconds by command when its VMI was seen Running. */
const commandsAtRunning = new Map<string, Map<string, number>>();
try {
  e = await startE2e();
  const c = e;
  const kc = new KubeConfig();
  kc.loadFromFile(c.cluster.controlPlane.adminKubeconfig);
  const send = (path: string, init: RequestInit): Promise<Response> => kubeFetch(kc, path, init);
  await c.kubectlOk(["create", "namespace", ns]);
  await c.kubectlOk(["create", "serviceaccount", "default", "-n", ns]);

  const vmis = new Informer<Vmi>({
    path: `/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances`, fetch: send, apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance",
    onAdd: (v) => mark(v.metadata.name, "vmi created"),
    onUpdate: (_, v) => {
      const phase = v.status?.phase;
      if (phase === "Scheduled" || phase === "Running") mark(v.metadata.name, `VMI ${phase}`);
      if (phase === "Running" && v.metadata.name !== undefined && !cpuAtRunning.has(v.metadata.name)) {
        const uid = [...podsOf].find(([, p]) => p.vm === v.metadata.name)?.[0];
        cpuAtRunning.set(v.metadata.name, uid === undefined ? NaN : podCpuSeconds(uid));
        if (uid !== undefined) commandsAtRunning.set(v.metadata.name, podCpuByCommand(uid));
      }
    },
  });
  const onPod = (p: Pod): void => {
    const vmName = p.metadata.labels?.["vm.kubevirt.io/name"];
    if (p.metadata.uid !== undefined && vmName !== undefined) podsOf.set(p.metadata.uid, { vm: vmName, name: p.metadata.name ?? "" });
    mark(vmName, "pod created");
    if (p.spec?.nodeName !== undefined) mark(vmName, "pod bound");
    if (p.status?.containerStatuses?.find((s) => s.name === "compute")?.state?.running !== undefined) mark(vmName, "pod Running");
  };
  const pods = new Informer<Pod>({ path: `/api/v1/namespaces/${ns}/pods`, fetch: send, apiVersion: "v1", kind: "Pod", onAdd: onPod, onUpdate: (_, p) => onPod(p) });
  informers.push(vmis as Informer<KubeObject>, pods as Informer<KubeObject>);
  vmis.start();
  pods.start();
  await Promise.all([vmis.synced, pods.synced]);

  // The guest's first serial byte: the console log in each pod's state volume, looked at every 100 ms.
  serialTimer = setInterval(() => {
    for (const [uid, p] of podsOf) {
      if (seen.get(p.vm)?.has("first serial byte")) continue;
      const log = join(c.cluster.node.kubeletDir, "pods", uid, "volumes/kubernetes.io~empty-dir/bunvirt-state/console/serial0.log");
      try {
        if (statSync(log).size > 0) mark(p.vm, "first serial byte");
      } catch {
        // Not there yet.
      }
    }
  }, 100);

  console.log(`creating ${n} VMs at once (TCG, 128Mi, containerDisk from ${c.registry})`);
  const names = Array.from({ length: n }, (_, i) => `burst-${i}`);
  const ticksBefore = machineTicks();
  await Promise.all(names.map(async (name, i) => {
    mark(name, "create");
    const r = await send(`/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachines`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(vm(i)) });
    if (r.status !== 201) throw new Error(`Cannot create VM "${name}": ${r.status} ${await r.text()}`);
  }));
  await until(`${n} VMIs Running`, 900, async () => (names.every((v) => seen.get(v)?.has("VMI Running")) ? true : null),
    async () => `${names.filter((v) => !seen.get(v)?.has("VMI Running")).join(", ")} not Running\n${await c.logs()}`);
  const ticksAfter = machineTicks();
  // The guests' first serial bytes, given a while (TCG, N guests on this machine's cores).
  await until("the first serial bytes", 120, async () => (names.every((v) => seen.get(v)?.has("first serial byte")) ? true : null)).catch(() => undefined);

  // The roles' logs: the handler's pull, sync and status write.
  const handler = c.procs.find((p) => p.role === "handler")!;
  for (const [at, msg] of logLines(handler.log.text)) {
    const vmName = /VMI "burst\/([^"]+)"/.exec(msg)?.[1];
    if (msg.startsWith("pulled ")) mark(vmName, "handler pulled", at);
    else if (msg.startsWith("syncing VMI")) mark(vmName, "handler syncing", at);
    else if (msg.includes(": Scheduled -> Running")) mark(vmName, "handler wrote Running", at);
  }
  // The launchers' container logs (the kubelet's pod-logs directory on the node).
  const podLogs = join(c.cluster.node.dir, "pod-logs");
  const keep = process.env.BURST_LOG_DIR;
  for (const dir of existsSync(podLogs) ? readdirSync(podLogs) : []) {
    const uid = dir.split("_")[2];
    const pod = uid !== undefined ? podsOf.get(uid) : undefined;
    const file = join(podLogs, dir, "compute", "0.log");
    if (pod === undefined || !existsSync(file)) continue;
    const text = readFileSync(file, "utf8");
    if (keep !== undefined) writeFileSync(join(keep, `launcher-${pod.vm}.log`), text);
    for (const [at, msg] of logLines(text)) {
      if (msg.includes("serving /healthz")) mark(pod.vm, "launcher process up", at);
      else if (msg.startsWith("command API on")) mark(pod.vm, "launcher command API", at);
      else if (msg.startsWith("QEMU capabilities probed")) mark(pod.vm, "launcher QEMU probed", at);
      else if (msg === "preparing storage") mark(pod.vm, "launcher sync start", at);
      else if (/^domain ".*" is running$/.test(msg)) mark(pod.vm, "launcher domain running", at);
    }
  }
  if (keep !== undefined) {
    for (const p of c.procs) writeFileSync(join(keep, `${p.role}.log`), p.log.text);
    for (const f of ["kubelet.log", "containerd.log"]) if (existsSync(join(c.cluster.node.dir, f))) writeFileSync(join(keep, f), readFileSync(join(c.cluster.node.dir, f)));
  }
  const offsets = (stage: string): number[] => names.map((v) => {
    const m = seen.get(v)!;
    const t = m.get(stage);
    return t === undefined ? NaN : t - m.get("create")!;
  }).filter((x) => !Number.isNaN(x));
  const running = offsets("VMI Running");
  const p50 = quantile(running, 0.5);
  const p95 = quantile(running, 0.95);
  console.log(`\ncreate -> VMI Running, ${n} VMs: p50 ${sec(p50)} s, p95 ${sec(p95)} s, max ${sec(Math.max(...running))} s`);
  console.log(`  goal ≤ ${goal.p50} s / ≤ ${goal.p95} s: ${p50 <= goal.p50 * 1000 && p95 <= goal.p95 * 1000 ? "met" : "missed"};  KubeVirt (100 VMIs): p50 ≈ ${kubevirtP50} s`);
  for (const stage of ["pod Running", "first serial byte"]) {
    const xs = offsets(stage);
    console.log(`create -> ${stage}: p50 ${sec(quantile(xs, 0.5))} s, p95 ${sec(quantile(xs, 0.95))} s, max ${sec(Math.max(...xs))} s (${xs.length}/${n})`);
  }
  const stages = ["vmi created", "pod created", "VMI Scheduled", "pod bound", "launcher process up", "pod Running", "launcher command API", "handler pulled", "handler syncing", "launcher sync start", "launcher QEMU probed", "launcher domain running", "handler wrote Running", "VMI Running", "first serial byte"];
  const rows = stages.map((s) => ({ s, xs: offsets(s) })).filter((r) => r.xs.length > 0).sort((a, b) => quantile(a.xs, 0.5) - quantile(b.xs, 0.5));
  console.log("\nwhere the time goes (seconds after each VM's create; p50, p95, and the p50 step from the row above):");
  let prev = 0;
  for (const { s, xs } of rows) {
    const med = quantile(xs, 0.5);
    console.log(`  ${s.padEnd(26)} p50 ${sec(med)}  p95 ${sec(quantile(xs, 0.95))}  step ${sec(med - prev)}`);
    prev = med;
  }
  const cpus = [...cpuAtRunning.values()].filter((x) => !Number.isNaN(x));
  const busy = (ticksAfter.busy - ticksBefore.busy) / (ticksAfter.total - ticksBefore.total);
  console.log(`\nCPU: a launcher pod used p50 ${quantile(cpus, 0.5).toFixed(2)} s (max ${Math.max(...cpus).toFixed(2)} s) until its VMI was Running; the machine (${navigator.hardwareConcurrency} cores) was ${(busy * 100).toFixed(0)}% busy from the creates to the last Running`);
  const commands = new Map<string, number[]>();
  for (const m of commandsAtRunning.values()) for (const [comm, secs] of m) commands.set(comm, [...(commands.get(comm) ?? []), secs]);
  const byCommand = [...commands].map(([comm, xs]) => [comm, quantile(xs, 0.5)] as const).sort((a, b) => b[1] - a[1]);
  console.log(`  by process (p50 CPU s, with waited-for children): ${byCommand.map(([comm, x]) => `${comm} ${x.toFixed(2)}`).join(", ")}`);
  console.log(`per VM (create -> VMI Running, s): ${names.map((v) => sec((seen.get(v)!.get("VMI Running") ?? NaN) - seen.get(v)!.get("create")!).trim()).join(" ")}`);

  // Clean up: the VMs (their guests shut down, the pods go), then the cluster.
  await c.kubectlOk(["delete", "vm", "--all", "-n", ns, "--wait=false"]);
  await until("the burst's pods gone", 180, async () => (pods.size === 0 ? true : null)).catch((err: unknown) => console.error((err as Error).message));
} finally {
  if (serialTimer !== undefined) clearInterval(serialTimer);
  for (const i of informers) await i.stop();
  await e?.stop();
}
