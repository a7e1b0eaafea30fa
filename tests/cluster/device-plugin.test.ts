/**
 * The handler's device plugins on the cluster tier's node (the handler as a
 * host process with the node's kubelet directory, tests/lib/e2e-cluster.ts):
 * - the kubelet takes the registrations: the Node's allocatable has
 *   devices.kubevirt.io/tun and /kvm (1000 each; vhost-net only where the
 *   host has /dev/vhost-net);
 * - an unprivileged busybox pod that requests devices.kubevirt.io/tun gets
 *   /dev/net/tun and may open it (reading an unattached tun fd fails with
 *   EBADFD, not EPERM); a pod without the request has no /dev/net/tun;
 * - a handler killed with SIGKILL takes the devices away (allocatable 0),
 *   the next handler registers again (allocatable back).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { clusterTier, nodeName } from "../lib/cluster-node.ts";
import { type E2eCluster, startE2e, until } from "../lib/e2e-cluster.ts";

const skip = clusterTier("device plugin");
const tun = "devices.kubevirt.io/tun";
const kvm = "devices.kubevirt.io/kvm";
const vhostNet = "devices.kubevirt.io/vhost-net";

/** A count as the Node shows it (a Kubernetes quantity: "1k", "0"); undefined when absent. */
function count(quantity: string | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  const m = /^(\d+)(k?)$/.exec(quantity);
  if (m === null) throw new Error(`Cannot read the quantity "${quantity}" as a count`);
  return Number(m[1]) * (m[2] === "k" ? 1000 : 1);
}

function podManifest(name: string, script: string, limits: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      containers: [{
        name: "main",
        image: "bunvirt.local/busybox:1.35",
        imagePullPolicy: "Never",
        command: ["sh", "-c", script],
        securityContext: { privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        resources: { limits },
      }],
    },
  });
}

describe.skipIf(skip !== null)("device plugin", () => {
  let e: E2eCluster | undefined;
  const allocatable = async (): Promise<Record<string, string>> =>
    JSON.parse(await e!.kubectlOk(["get", "node", nodeName, "-o", "jsonpath={.status.allocatable}"])) as Record<string, string>;
  const why = async (): Promise<string> => `${JSON.stringify(await allocatable().catch(() => ({})))}\n${await e!.logs()}`;

  /** Runs the pod to completion; its log. */
  async function run(name: string, script: string, limits: Record<string, string>): Promise<string> {
    await e!.kubectlOk(["apply", "-f", "-"], { stdin: podManifest(name, script, limits) });
    await e!.kubectlOk(["wait", `pod/${name}`, "--for=jsonpath={.status.phase}=Succeeded", "--timeout=120s"]);
    return e!.kubectlOk(["logs", name]);
  }

  beforeAll(async () => {
    e = await startE2e();
  }, 900_000);
  afterAll(async () => e?.stop());

  test("the Node's allocatable has the devices whose nodes exist, 1000 each", async () => {
    const a = await until("tun and kvm allocatable", 60, async () => {
      const a = await allocatable();
      return count(a[tun]) === 1000 && count(a[kvm]) === (existsSync("/dev/kvm") ? 1000 : undefined) ? a : null;
    }, why);
    expect(count(a[vhostNet])).toBe(existsSync("/dev/vhost-net") ? 1000 : undefined);
    const handler = e!.procs.find((p) => p.role === "handler")!;
    expect(handler.log.text).toContain(`registered "${tun}" (/dev/net/tun) with the kubelet`);
    if (!existsSync("/dev/vhost-net")) expect(handler.log.text).toContain(`no "/dev/vhost-net" on this node`);
  }, 120_000);

  test("an unprivileged pod that requests devices.kubevirt.io/tun opens /dev/net/tun; one without the request has none", async () => {
    const script = "ls -l /dev/net/tun 2>&1; cat /dev/net/tun 2>&1; echo exit=$?";
    const withTun = await run("with-tun", script, { [tun]: "1" });
    expect(withTun).toMatch(/^c[rw-]{9}\s+1 root\s+root\s+10,\s+200 .* \/dev\/net\/tun$/m);
    expect(withTun).toContain("File descriptor in bad state");
    expect(withTun).not.toContain("Operation not permitted");
    const without = await run("without-tun", script, {});
    expect(without).toContain("/dev/net/tun: No such file or directory");
    const pod = JSON.parse(await e!.kubectlOk(["get", "pod", "with-tun", "-o", "json"])) as { spec: { containers: { resources: { requests: Record<string, string> } }[] } };
    expect(pod.spec.containers[0]!.resources.requests[tun]).toBe("1");
  }, 300_000);

  test("a killed handler's devices go (allocatable 0); the next handler registers them again", async () => {
    const handler = e!.procs.find((p) => p.role === "handler")!;
    const killed = performance.now();
    handler.proc.kill("SIGKILL");
    await handler.proc.exited;
    await until("tun allocatable 0", 120, async () => (count((await allocatable())[tun]) === 0 ? true : null), why);
    const gone = performance.now();
    const next = e!.startRole("handler", e!.handlerArgs(), "handler-2");
    await e!.ready(next);
    await until("tun allocatable 1000 again", 60, async () => (count((await allocatable())[tun]) === 1000 ? true : null), why);
    console.log(`allocatable tun 0 ${((gone - killed) / 1000).toFixed(1)} s after SIGKILL; 1000 again ${((performance.now() - gone) / 1000).toFixed(1)} s after the next handler started`);
    expect(await run("with-tun-again", "cat /dev/net/tun 2>&1; true", { [tun]: "1" })).toContain("File descriptor in bad state");
  }, 300_000);
});
