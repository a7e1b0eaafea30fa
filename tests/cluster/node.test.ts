/**
 * The cluster tier's node (tests/lib/cluster-node.ts): a real kubelet and
 * containerd in namespaces the harness makes become a Ready Node; a busybox
 * pod runs and `kubectl logs` reads it through the API server and the
 * kubelet; a pod from the launcher's image runs `bunvirt --version` under
 * the kubelet and exits 0; stop() leaves no process, mount, cgroup,
 * namespace or link behind.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { type Cluster, clusterTier, hostLink, kubepodsCgroups, nodeAddress, nodeName, processesIn, startCluster } from "../lib/cluster-node.ts";
import { type LauncherImage, launcherImage, nodeImages } from "../lib/cluster-images.ts";
import { k8sVersion } from "../lib/control-plane.ts";

const skip = clusterTier("cluster node");

interface HostState {
  links: string[];
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
  return { links, netns: await out(["ip", "netns", "list"]), cgroups: kubepodsCgroups(), sysctls };
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
  }, 600_000);
  afterAll(async () => cluster?.stop());

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
      "test -f /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so",
    ];
    const script = tools.map((t) => `if ${t} >/dev/null 2>&1; then echo "ok: ${t}"; else echo "FAILED: ${t}"; fi`).join("\n");
    await cp.kubectlOk(["apply", "-f", "-"], { stdin: podManifest("launcher-tools", launcher.ref, ["/bin/sh", "-c", script]) });
    await cp.kubectlOk(["wait", "pod/launcher-tools", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=120s"]);
    const lines = (await cp.kubectlOk(["logs", "launcher-tools"])).trimEnd().split("\n");
    expect(lines).toEqual(tools.map((t) => `ok: ${t}`));
  }, 180_000);

  test("stop() leaves no process, mount, cgroup, namespace or link behind", async () => {
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
