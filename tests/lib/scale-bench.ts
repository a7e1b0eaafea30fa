/**
 * What the controller benches (bench/controller-scale.ts,
 * bench/controller-writes.ts) share: the VM they create, the controller
 * started on a control plane as its own service account (so the audit log
 * tells its writes from the bench's), requests as the admin or as another
 * user (impersonated, so the audit log names who played which part), and
 * a process's RSS and CPU time from /proc.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bunvirtCommand, freePort } from "./bunvirt.ts";
import type { ControlPlane } from "./control-plane.ts";

/** The controller's user name in the audit log. */
export const controllerUser = "system:serviceaccount:bunvirt:bunvirt-controller";

/** A VM that starts at once (runStrategy Always) with one container disk. */
export function benchVm(namespace: string, i: number): object {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name: `vm-${i}`, namespace },
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

export function rssKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? NaN);
}

/** User + system CPU seconds a process has used (/proc/PID/stat, clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface BenchClient {
  /** A JSON request as the admin, or as `as` (impersonated, with the admin's rights). Throws unless 2xx. */
  request<T>(method: string, path: string, opts?: { body?: unknown; contentType?: string; as?: string; accept?: string }): Promise<T>;
  /**
   * Watches `path` (a collection, with its query) for objects' metadata only
   * and calls `onEvent` with each event's type and object name, until
   * `stop()`; a watch that ends is opened again. One watch costs the API server an event per change, where
   * polling a list would serialize every object again each time.
   */
  watchNames(path: string, onEvent: (type: string, name: string) => void): { stop(): void; ended: Promise<void> };
}

export function benchClient(cp: ControlPlane): BenchClient {
  const tls = { ca: readFileSync(`${cp.pki}/ca.crt`), cert: readFileSync(`${cp.pki}/admin.crt`), key: readFileSync(`${cp.pki}/admin.key`) };
  return {
    async request<T>(method: string, path: string, opts: { body?: unknown; contentType?: string; as?: string; accept?: string } = {}): Promise<T> {
      const headers: Record<string, string> = { accept: opts.accept ?? "application/json" };
      if (opts.body !== undefined) headers["content-type"] = opts.contentType ?? "application/json";
      if (opts.as !== undefined) {
        headers["impersonate-user"] = opts.as;
        headers["impersonate-group"] = "system:masters";
      }
      const r = await fetch(`${cp.server}${path}`, { method, headers, tls, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
      const text = await r.text();
      if (!r.ok) throw new Error(`Cannot ${method} "${path}": ${r.status} ${text.slice(0, 500)}`);
      return JSON.parse(text) as T;
    },
    watchNames(path: string, onEvent: (type: string, name: string) => void): { stop(): void; ended: Promise<void> } {
      const abort = new AbortController();
      const sep = path.includes("?") ? "&" : "?";
      // A watch the server ends (or answers with an ERROR event, e.g. its cache not ready yet) is opened again;
      // it then lists what exists as ADDED again, so callers count names, not events.
      const once = async (): Promise<void> => {
        const r = await fetch(`${cp.server}${path}${sep}watch=true&allowWatchBookmarks=false`, {
          tls, signal: abort.signal, headers: { accept: "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io" },
        });
        if (!r.ok || r.body === null) throw new Error(`Cannot watch "${path}": ${r.status} ${await r.text()}`);
        const decoder = new TextDecoder();
        let buffered = "";
        for await (const chunk of r.body) {
          buffered += decoder.decode(chunk, { stream: true });
          let nl: number;
          while ((nl = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            if (line.trim() === "") continue;
            const ev = JSON.parse(line) as { type: string; object: { metadata?: { name?: string } } };
            if (ev.type !== "ERROR") onEvent(ev.type, ev.object.metadata?.name ?? "");
          }
        }
      };
      const ended = (async () => {
        while (!abort.signal.aborted) {
          await once().catch((e: unknown) => {
            if (!abort.signal.aborted) throw e;
          });
          if (!abort.signal.aborted) await Bun.sleep(200);
        }
      })();
      return { stop: () => abort.abort(), ended };
    },
  };
}

export interface BenchController {
  proc: Bun.Subprocess;
  stop(): Promise<void>;
}

/**
 * Starts `bunvirt --role controller` with its webhooks on the control plane,
 * as the service account bunvirt/bunvirt-controller (cluster-admin), and
 * waits until it is ready (the leader, webhooks registered).
 */
export async function startBenchController(cp: ControlPlane, env: Record<string, string> = {}): Promise<BenchController> {
  await cp.kubectlOk(["create", "namespace", "bunvirt"]);
  await cp.kubectlOk(["create", "serviceaccount", "bunvirt-controller", "-n", "bunvirt"]);
  await cp.kubectlOk(["create", "clusterrolebinding", "bunvirt-controller-bench", "--clusterrole=cluster-admin", "--serviceaccount=bunvirt:bunvirt-controller"]);
  const token = (await cp.kubectlOk(["create", "token", "bunvirt-controller", "-n", "bunvirt", "--duration=2h"])).trim();
  const kubeconfig = join(cp.dir, "controller.kubeconfig");
  writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${cp.server}", certificate-authority: "${cp.pki}/ca.crt"}}]
users: [{name: sa, user: {token: "${token}"}}]
contexts: [{name: x, context: {cluster: c, user: sa}}]
current-context: x
`);
  const health = freePort();
  const webhook = freePort();
  const proc = Bun.spawn(
    [...bunvirtCommand(), "--role", "controller", "--kubeconfig", kubeconfig, "--health-addr", `127.0.0.1:${health}`,
      "--webhook-addr", `127.0.0.1:${webhook}`, "--webhook-url", `https://127.0.0.1:${webhook}`],
    {
      stdin: "ignore",
      stdout: "ignore",
      stderr: process.env.BENCH_LOG === undefined ? "ignore" : Bun.file(process.env.BENCH_LOG),
      env: { PATH: process.env.PATH ?? "", HOME: cp.dir, POD_NAMESPACE: "bunvirt", ...env },
    },
  );
  const stop = async (): Promise<void> => {
    proc.kill("SIGTERM");
    await proc.exited;
  };
  for (let i = 0; ; i++) {
    if ((await fetch(`http://127.0.0.1:${health}/readyz`).catch(() => null))?.status === 200) break;
    if (i === 600 || proc.exitCode !== null) {
      await stop();
      throw new Error("Cannot start the controller: not ready after 60 s (set BENCH_LOG=FILE for its log)");
    }
    await Bun.sleep(100);
  }
  return { proc, stop };
}

/** Runs `task` over `items`, `width` at a time. */
export async function inParallel<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await task(items[next++]!);
  }));
}
