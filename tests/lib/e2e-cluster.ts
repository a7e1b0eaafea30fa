/**
 * The end-to-end suites' cluster: the cluster tier's node
 * (tests/lib/cluster-node.ts), the guest's registry
 * (scripts/guest/registry.sh) on the host end of the node's veth
 * (10.250.0.1, which both the host and pods reach; started once the node is
 * up), and bunvirt's roles as processes on the host
 * (the controller with its webhooks, the handler with the node's kubelet
 * directory). One per test file; stop() ends the roles, the node and the
 * registry. BUNVIRT_E2E_LOG_DIR=DIR keeps the roles' logs there.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunvirtCommand, freePort, repoRoot, type RunResult } from "./bunvirt.ts";
import { launcherImage, nodeImages } from "./cluster-images.ts";
import { type Cluster, hostAddress, nodeName, startCluster } from "./cluster-node.ts";

const registryScript = join(repoRoot, "scripts/guest/registry.sh");

export interface RoleProc {
  role: string;
  proc: Bun.Subprocess<"ignore", "ignore", "pipe">;
  /** http://127.0.0.1:PORT of its health server ("" for a followed log). */
  health: string;
  /** Its stderr so far. */
  log: { text: string };
}

/** A Kubernetes object as the suites read it. */
export interface Obj {
  metadata: { name: string; uid: string; deletionTimestamp?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { uid: string; kind: string }[] };
  spec?: { nodeName?: string; runStrategy?: string };
  status?: {
    phase?: string;
    reason?: string;
    printableStatus?: string;
    podIP?: string;
    interfaces?: { ipAddress?: string }[];
    conditions?: { type: string; status: string; reason?: string }[];
    containerStatuses?: { name: string; state?: { running?: object } }[];
  };
}

/** Collects a stream's text as it comes (a running role's log, for failure messages). */
export function collect(stream: ReadableStream<Uint8Array>): { text: string } {
  const out = { text: "" };
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) out.text += decoder.decode(chunk, { stream: true });
  })();
  return out;
}

/** Polls probe every 250 ms until it gives a value; throws with why() after the deadline. */
export async function until<T>(what: string, seconds: number, probe: () => Promise<T | null>, why: () => Promise<string> = async () => ""): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`Cannot see ${what} after ${seconds} s\n${await why()}`);
    await Bun.sleep(250);
  }
}

export interface E2eCluster {
  cluster: Cluster;
  /** The launcher image's reference (bunvirt.local/launcher:<hash>). */
  launcherRef: string;
  /** host:port of the guest's registry (10.250.0.1:PORT): the host-process handler and pods reach it there. */
  registry: string;
  /** host:port of the guest's registry as pods reach it (the same as `registry`; for a deployment's ConfigMap). */
  podRegistry: string;
  /** Every role process started, and followed logs. */
  procs: RoleProc[];
  kubectl(args: string[], opts?: { stdin?: string }): Promise<RunResult>;
  kubectlOk(args: string[], opts?: { stdin?: string }): Promise<string>;
  /** The object, or null when it does not exist. */
  get(kind: string, name: string, namespace?: string): Promise<Obj | null>;
  /** The last 40 lines of every role's log, for failure messages. */
  logs(): Promise<string>;
  /** Starts `bunvirt --role ROLE` against the cluster with a health server of its own. */
  startRole(role: string, args: string[], name?: string): RoleProc;
  /** The controller's arguments (webhooks on a free port, the launcher image, emulation); `newWebhookPort` for a second replica. */
  controllerArgs(opts?: { newWebhookPort?: boolean }): string[];
  /** The handler's arguments (this node, its kubelet directory, the registry, a node disk cache in the harness's dir). */
  handlerArgs(): string[];
  /** Waits until the role's /readyz answers 200. */
  ready(p: RoleProc, seconds?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface E2eOptions {
  /** Start a controller and a handler (default true). */
  roles?: boolean;
}

export async function startE2e(opts: E2eOptions = {}): Promise<E2eCluster> {
  bunvirtCommand(); // fails at once when compiled/bunvirt is missing or stale
  const work = mkdtempSync(join(tmpdir(), "bunvirt-e2e-"));
  const procs: RoleProc[] = [];
  let cluster: Cluster | undefined;
  const registryPort = freePort();
  const registryEnv = { BUNVIRT_REGISTRY_ADDR: hostAddress, BUNVIRT_REGISTRY_PORT: String(registryPort), BUNVIRT_REGISTRY_DIR: join(work, "registry") };
  const registry = `${hostAddress}:${registryPort}`;
  let webhookPort = 0;

  const stop = async (): Promise<void> => {
    for (const p of procs) p.proc.kill("SIGTERM");
    for (const p of procs) await Promise.race([p.proc.exited, Bun.sleep(20_000).then(() => p.proc.kill("SIGKILL"))]);
    const keep = process.env.BUNVIRT_E2E_LOG_DIR;
    if (keep !== undefined) for (const p of procs) writeFileSync(join(keep, `${p.role}.log`), p.log.text);
    await cluster?.stop();
    const stopRegistry = Bun.spawn(["bash", registryScript, "stop"], { env: { ...process.env, ...registryEnv }, stdout: "ignore", stderr: "ignore" });
    await stopRegistry.exited;
    rmSync(work, { recursive: true, force: true });
  };

  try {
    const [images, launcher] = await Promise.all([nodeImages(), launcherImage()]);
    cluster = await startCluster({ images: [images.pause, images.busybox, launcher.tar] });
    const c = cluster;
    // The registry listens on the veth's host end, which exists once the node does.
    const push = Bun.spawn(["nice", "-n", "10", "bash", registryScript, "push"], { env: { ...process.env, ...registryEnv }, stdout: "pipe", stderr: "pipe" });
    const [pushErr, pushCode] = await Promise.all([new Response(push.stderr).text(), push.exited]);
    if (pushCode !== 0) throw new Error(`Cannot push the guest image: ${pushErr}`);
    await c.controlPlane.kubectlOk(["create", "namespace", "bunvirt"]);
    // The kubelet's device-plugin directory is /var/lib/kubelet/device-plugins whatever its --root-dir (the node's
    // /var/lib is DIR/var-lib); the handler looks under its --kubelet-root: a link there until the node's kubelet
    // root is /var/lib/kubelet.
    const pluginDir = join(c.node.dir, "var-lib/kubelet/device-plugins");
    mkdirSync(pluginDir, { recursive: true });
    if (!existsSync(join(c.node.kubeletDir, "device-plugins"))) symlinkSync(pluginDir, join(c.node.kubeletDir, "device-plugins"));

    const e: E2eCluster = {
      cluster: c,
      launcherRef: launcher.ref,
      registry,
      podRegistry: registry,
      procs,
      kubectl: (args, o) => c.controlPlane.kubectl(args, o),
      kubectlOk: (args, o) => c.controlPlane.kubectlOk(args, o),
      get: async (kind, name, namespace = "default") => {
        const r = await c.controlPlane.kubectl(["get", kind, name, "-n", namespace, "-o", "json"]);
        return r.code === 0 ? (JSON.parse(r.stdout) as Obj) : null;
      },
      logs: async () => procs.map((p) => `${p.role}:\n${p.log.text.trimEnd().split("\n").slice(-40).join("\n")}`).join("\n----\n"),
      startRole: (role, args, name = role) => {
        const health = freePort();
        const proc = Bun.spawn([...bunvirtCommand(), "--role", role, "--kubeconfig", c.controlPlane.adminKubeconfig, "--health-addr", `127.0.0.1:${health}`, ...args], {
          stdin: "ignore", stdout: "ignore", stderr: "pipe",
          env: { PATH: process.env.PATH ?? "", HOME: work, POD_NAME: `${name}-e2e`, POD_NAMESPACE: "bunvirt" },
        });
        const p = { role: name, proc, health: `http://127.0.0.1:${health}`, log: collect(proc.stderr) };
        procs.push(p);
        return p;
      },
      controllerArgs: (o = {}) => {
        if (webhookPort === 0) webhookPort = freePort();
        const port = o.newWebhookPort === true ? freePort() : webhookPort;
        return ["--webhook-addr", `127.0.0.1:${port}`, "--webhook-url", `https://127.0.0.1:${port}`, "--launcher-image", launcher.ref, "--emulation", "--ip-forward-sysctl"];
      },
      handlerArgs: () => [
        "--node-name", nodeName, "--kubelet-root", c.node.kubeletDir, "--registry", registry, "--insecure-registry", registry, "--disk-cache", join(work, "disk-cache"),
        // The kubelet's device-plugin directory is /var/lib/kubelet/device-plugins whatever its --root-dir; the node's /var/lib is DIR/var-lib.
        "--device-plugin-dir", join(c.node.dir, "var-lib/kubelet/device-plugins"),
      ],
      ready: (p, seconds = 60) => until(`${p.health}/readyz`, seconds, async () => ((await fetch(`${p.health}/readyz`)).status === 200 ? undefined : null), e.logs),
      stop,
    };
    if (opts.roles !== false) {
      const controller = e.startRole("controller", e.controllerArgs());
      const handler = e.startRole("handler", e.handlerArgs());
      for (const p of [controller, handler]) await e.ready(p);
    }
    return e;
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
