/**
 * The cluster tier's node with bunvirt deployed as users deploy it: the node
 * and the guest's registry (tests/lib/e2e-cluster.ts without role
 * processes), the one image imported into the node's containerd, and
 * `kubectl apply -k` of a generated overlay on top of
 * deploy/kustomize/overlays/test that sets the image (`images:`) and the
 * pod-reachable registry (a ConfigMap merge). Ready when every role is: both
 * controller replicas Ready (the probe is /readyz?exclude=leader: serving the
 * webhooks), one of them holding the Lease and answering /readyz 200, the
 * handler DaemonSet Ready on the node.
 * stop() runs `kubectl delete -k` and tears the node down.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { stringify } from "yaml";
import { repoRoot } from "./bunvirt.ts";
import { type E2eCluster, type Obj, startE2e, until } from "./e2e-cluster.ts";

export const deployNamespace = "bunvirt";
export const controllerSelector = "app.kubernetes.io/name=bunvirt,app.kubernetes.io/component=controller";
export const handlerSelector = "app.kubernetes.io/name=bunvirt,app.kubernetes.io/component=handler";

/** A pod's resident memory from its cgroup (v1: kubepods[/QOS]/pod<uid>/memory.stat total_rss), bytes; null when not found. */
export function podRss(uid: string): number | null {
  const root = "/sys/fs/cgroup/memory/kubepods";
  for (const dir of [root, join(root, "burstable"), join(root, "besteffort")]) {
    const pod = join(dir, `pod${uid}`);
    if (!existsSync(pod)) continue;
    const m = /^total_rss (\d+)$/m.exec(readFileSync(join(pod, "memory.stat"), "utf8"));
    return m === null ? null : Number(m[1]);
  }
  return null;
}

/** Every pod cgroup under kubepods (for a failure message when podRss finds none). */
export function podCgroups(): string[] {
  const root = "/sys/fs/cgroup/memory/kubepods";
  return [root, join(root, "burstable"), join(root, "besteffort")].flatMap((d) => (existsSync(d) ? readdirSync(d).filter((n) => n.startsWith("pod")) : []));
}

export interface Deployed {
  e: E2eCluster;
  /** The generated overlay's directory (`kubectl apply -k` / `delete -k` it). */
  overlay: string;
  /** The admin kubeconfig (BUNVIRT_E2E_KUBECONFIG). */
  kubeconfig: string;
  /** Seconds from `kubectl apply -k` until every role was Ready. */
  readySeconds: number;
  /** The controller replicas' and the handler's pods, and who leads. */
  pods(): Promise<{ leader: string; controllers: string[]; handlers: string[] }>;
  /** Each role pod's RSS in MiB (from its cgroup). */
  rss(): Promise<Record<string, number | null>>;
  /** The roles' pods' logs (last lines), for failure messages. */
  logs(): Promise<string>;
  /** Waits until every role is Ready again (after a failover, a restart). */
  ready(seconds?: number): Promise<void>;
  /** `kubectl delete -k` of the overlay (idempotent). */
  uninstall(): Promise<void>;
  stop(): Promise<void>;
}

/** The overlay the cluster tier applies: the test overlay, the test image, the registry pods reach. */
export function testOverlay(dir: string, imageRef: string, registry: string): string {
  const at = imageRef.lastIndexOf(":");
  return stringify({
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    // Kustomize takes no absolute path: the test overlay relative to `dir`.
    resources: [relative(dir, join(repoRoot, "deploy/kustomize/overlays/test"))],
    images: [{ name: "bunvirt", newName: imageRef.slice(0, at), newTag: imageRef.slice(at + 1) }],
    configMapGenerator: [{
      name: "bunvirt-config",
      behavior: "merge",
      options: { disableNameSuffixHash: true },
      literals: [`registry=${registry}`, `insecure-registry=${registry}`],
    }],
  });
}

interface PodObj extends Obj {
  status?: Obj["status"] & { containerStatuses?: { name: string; ready?: boolean; state?: { running?: object } }[] };
}

export async function startDeployed(): Promise<Deployed> {
  const e = await startE2e({ roles: false });
  const overlay = mkdtempSync(join(tmpdir(), "bunvirt-overlay-"));
  let removed = false;
  const kubectl = e.kubectl;
  const kubectlOk = e.kubectlOk;

  const podsOf = async (selector: string): Promise<PodObj[]> =>
    (JSON.parse(await kubectlOk(["get", "pods", "-n", deployNamespace, "-l", selector, "-o", "json"])) as { items: PodObj[] }).items;
  /** A pod's /readyz read from the host (it routes to pod IPs). */
  const readyz = async (p: PodObj): Promise<{ ok: boolean; reasons: string[] }> => {
    const r = await fetch(`http://${p.status?.podIP}:8186/readyz`, { signal: AbortSignal.timeout(5000) });
    return { ok: r.ok, reasons: (await r.text()).trim().split("\n").slice(1) };
  };
  const podReady = (p: PodObj): boolean => p.metadata.deletionTimestamp === undefined && (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
  const logs = async (): Promise<string> => {
    const out: string[] = [(await kubectl(["get", "pods", "-A", "-o", "wide"])).stdout];
    for (const selector of [controllerSelector, handlerSelector]) {
      for (const p of await podsOf(selector).catch(() => [])) {
        const r = await kubectl(["logs", "-n", deployNamespace, p.metadata.name, "--tail=30"]);
        out.push(`${p.metadata.name}:\n${r.stdout}${r.stderr}`);
      }
    }
    return out.join("\n----\n");
  };
  const pods = async (): Promise<{ leader: string; controllers: string[]; handlers: string[] }> => {
    const lease = JSON.parse(await kubectlOk(["get", "lease", "bunvirt-controller", "-n", deployNamespace, "-o", "json"])) as { spec?: { holderIdentity?: string } };
    const holder = lease.spec?.holderIdentity ?? "";
    // The identity is POD-NAME_PID (src/roles/controller/index.ts).
    return {
      leader: holder.slice(0, holder.lastIndexOf("_")),
      controllers: (await podsOf(controllerSelector)).filter((p) => p.metadata.deletionTimestamp === undefined).map((p) => p.metadata.name),
      handlers: (await podsOf(handlerSelector)).map((p) => p.metadata.name),
    };
  };
  /** Every role Ready: both controllers Ready (serving), one leading (its /readyz 200, the other's only reason "leader: standby"), each handler Ready. */
  const everyRoleReady = async (): Promise<boolean> => {
    const controllers = (await podsOf(controllerSelector)).filter((p) => p.metadata.deletionTimestamp === undefined);
    const handlers = await podsOf(handlerSelector);
    if (controllers.length !== 2 || handlers.length === 0 || !handlers.every(podReady)) return false;
    if (!controllers.every(podReady)) return false;
    const answers = await Promise.all(controllers.map(readyz));
    const leaders = answers.filter((r) => r.ok);
    const standbys = answers.filter((r) => !r.ok && r.reasons.length > 0 && r.reasons.every((l) => l.startsWith("leader: standby")));
    return leaders.length === 1 && standbys.length === 1;
  };
  const ready = async (seconds = 300): Promise<void> => {
    await until("every bunvirt role Ready", seconds, async () => ((await everyRoleReady()) ? true : null), logs);
  };
  const uninstall = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    await kubectl(["delete", "-k", overlay, "--ignore-not-found", "--wait=true", "--timeout=180s"]);
  };
  const stop = async (): Promise<void> => {
    await uninstall().catch(() => undefined);
    await e.stop();
    rmSync(overlay, { recursive: true, force: true });
  };

  try {
    writeFileSync(join(overlay, "kustomization.yaml"), testOverlay(overlay, e.launcherRef, e.podRegistry));
    const started = performance.now();
    await kubectlOk(["apply", "-k", overlay]);
    await ready();
    const readySeconds = (performance.now() - started) / 1000;
    const rss = async (): Promise<Record<string, number | null>> => {
      const out: Record<string, number | null> = {};
      for (const p of [...(await podsOf(controllerSelector)), ...(await podsOf(handlerSelector))]) {
        const b = podRss(p.metadata.uid);
        out[p.metadata.name] = b === null ? null : Math.round((b / 1048576) * 10) / 10;
      }
      return out;
    };
    return { e, overlay, kubeconfig: e.cluster.controlPlane.adminKubeconfig, readySeconds, pods, rss, logs, ready, uninstall, stop };
  } catch (err) {
    const why = await logs().catch(() => "");
    await stop().catch(() => undefined);
    throw new Error(`${(err as Error).message}\n${why}`, { cause: err });
  }
}
