/**
 * The handler's loop on one node: informers on the VMIs labelled with this
 * node and on the launcher pods bound to it; every VMI is looked at when it
 * or its pod changes, once a second (the launcher's state is not in the
 * API server), one pass at a time per VMI. A pass asks the launcher for its
 * status over the command socket in the pod's directory, lets decideVmi
 * choose, sends the command (pulling container disks before a sync) and
 * writes the VMI's status when it changed. A heartbeat keeps the Node
 * labelled schedulable (and annotated with the console's address). It also
 * tells the console server where a VMI's serial console is (consoleLookup).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeFetch } from "../../kube/api-client.ts";
import { objectOf, objectOfKey, type Logger } from "../../log/logger.ts";
import { Informer, type KubeObject } from "../../kube/informer.ts";
import { KubeRest, resourcePath } from "../../kube/rest.ts";
import { LauncherClient } from "../../launcher/command/command-client.ts";
import type { StatusReply, SyncRequest } from "../../launcher/command/schema.ts";
import { backoffDelay, clusterBackoff } from "../../retry/backoff.ts";
import { ControllerWrites, podResource, vmiResource } from "../controller/kube-writes.ts";
import { computeContainerName, launcherLabels } from "../controller/launcher-pod.ts";
import { keyOf, type Vmi } from "../controller/model.ts";
import { nodeNameLabel, type PodView } from "../controller/reconcile-vmi.ts";
import { pinImages, pullContainerDisks, type RegistrySettings } from "./container-disks.ts";
import { safeLauncherSocket, safeStateDir } from "./launcher-socket.ts";
import type { ConsoleRequest } from "./console-protocol.ts";
import type { ConsoleLookup } from "./console-server.ts";
import { consoleLookupOf } from "./console-lookup.ts";
import { kubeletCpuManagerStatic } from "./cpu-manager.ts";
import { heartbeatPatch, heartbeatSeconds } from "./node-heartbeat.ts";
import { afterShutdown, decideVmi, type LauncherView } from "./vmi-decision.ts";
import type { StatsTarget } from "./vmi-stats-collector.ts";

export interface HandlerLoopOptions {
  nodeName: string;
  /** The kubelet's --root-dir as this process sees it, a real path (realKubeletRoot). */
  kubeletRoot: string;
  registry: RegistrySettings;
  log: Logger;
  /** Milliseconds between passes over every VMI. Default 1000. */
  resyncMs?: number;
  /** Annotations written on the Node with every heartbeat (`kubevirt.io/` only). */
  nodeAnnotations?: Record<string, string>;
}

type VmiObj = Vmi & KubeObject;
type PodObj = PodView & KubeObject & { metadata: { labels?: Record<string, string> } };

const nodeResource = { group: "", version: "v1", plural: "nodes" } as const;

/** What the launcher's VMI is told: the VMI as the API defines it, without what the API server adds. */
function syncBody(vmi: Vmi): SyncRequest["vmi"] {
  const { name, namespace, uid, labels, annotations } = vmi.metadata;
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: { name, namespace, uid, ...(labels !== undefined ? { labels } : {}), ...(annotations !== undefined ? { annotations } : {}) },
    spec: vmi.spec,
  } as SyncRequest["vmi"];
}

export class HandlerLoop {
  readonly vmis: Informer<VmiObj>;
  readonly pods: Informer<PodObj>;
  readonly #opts: HandlerLoopOptions;
  readonly #rest: KubeRest;
  readonly #writes: ControllerWrites;
  /** VMI uids with a pass under way. */
  readonly #busy = new Set<string>();
  /** VMI uid -> failed commands in a row and when to try again. */
  readonly #failures = new Map<string, { count: number; notBefore: number }>();
  #timers: ReturnType<typeof setInterval>[] = [];
  #stopped = false;

  constructor(kc: KubeConfig, opts: HandlerLoopOptions) {
    this.#opts = opts;
    this.#rest = new KubeRest(kc);
    this.#writes = new ControllerWrites(this.#rest, opts.log);
    const send = (path: string, init: RequestInit): Promise<Response> => kubeFetch(kc, path, init);
    const log = opts.log;
    this.vmis = new Informer<VmiObj>({
      path: resourcePath(vmiResource), fetch: send, apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", log,
      labelSelector: `${nodeNameLabel}=${opts.nodeName}`,
      onAdd: (vmi) => this.#kick(keyOf(vmi)),
      onUpdate: (_, vmi) => this.#kick(keyOf(vmi)),
    });
    this.pods = new Informer<PodObj>({
      path: resourcePath(podResource), fetch: send, apiVersion: "v1", kind: "Pod", log,
      labelSelector: `${launcherLabels.app}=virt-launcher`,
      fieldSelector: `spec.nodeName=${opts.nodeName}`,
      onUpdate: (_, pod) => this.#kickOwner(pod),
      onAdd: (pod) => this.#kickOwner(pod),
    });
  }

  async start(): Promise<void> {
    this.vmis.start();
    this.pods.start();
    void this.#heartbeat(true);
    this.#timers.push(setInterval(() => void this.#heartbeat(true), heartbeatSeconds * 1000));
    await Promise.all([this.vmis.synced, this.pods.synced]);
    if (this.#stopped) return;
    this.#opts.log(`caches synced: ${this.vmis.size} VMIs, ${this.pods.size} launcher pods on node "${this.#opts.nodeName}"`, { kind: "Node", name: this.#opts.nodeName });
    this.#timers.push(setInterval(() => {
      for (const vmi of this.vmis.list()) this.#kick(keyOf(vmi));
    }, this.#opts.resyncMs ?? 1000));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    await Promise.all([this.vmis.stop(), this.pods.stop()]);
    // No handler, no new VMs here: the node loses its schedulable mark (given up after 5 s).
    await Promise.race([this.#heartbeat(false), Bun.sleep(5000)]);
  }

  async #heartbeat(schedulable: boolean): Promise<void> {
    try {
      await this.#rest.patch(resourcePath(nodeResource, undefined, this.#opts.nodeName), "merge", heartbeatPatch(new Date(), schedulable, this.#opts.nodeAnnotations, await kubeletCpuManagerStatic(this.#opts.kubeletRoot)));
    } catch (e) {
      this.#opts.log.warn(`Cannot write the heartbeat of node "${this.#opts.nodeName}": ${(e as Error).message}`, { kind: "Node", name: this.#opts.nodeName });
    }
  }

  #kickOwner(pod: PodObj): void {
    const uid = pod.metadata.labels?.[launcherLabels.createdBy];
    const vmi = this.vmis.list().find((v) => v.metadata.uid === uid);
    if (vmi !== undefined) this.#kick(keyOf(vmi));
  }

  #kick(key: string): void {
    const vmi = this.vmis.get(key);
    const uid = vmi?.metadata.uid;
    if (vmi === undefined || uid === undefined || this.#busy.has(uid) || this.#stopped) return;
    const failed = this.#failures.get(uid);
    if (failed !== undefined && Date.now() < failed.notBefore) return;
    this.#busy.add(uid);
    let lookAgainMs: number | undefined;
    void this.#pass(vmi)
      .then((again) => {
        lookAgainMs = again;
        this.#failures.delete(uid);
      })
      .catch((e: unknown) => {
        const count = (this.#failures.get(uid)?.count ?? 0) + 1;
        this.#failures.set(uid, { count, notBefore: Date.now() + backoffDelay(count - 1, clusterBackoff) });
        this.#opts.log.warn(`VMI "${key}": ${(e as Error).message}; retrying`, objectOf("VirtualMachineInstance", vmi.metadata));
      })
      .finally(() => {
        this.#busy.delete(uid);
        if (lookAgainMs !== undefined && !this.#stopped) setTimeout(() => this.#kick(key), lookAgainMs);
      });
  }

  /** The VMI's launcher pod on this node: a live one if there is one. */
  #podOf(vmi: VmiObj): PodObj | null {
    const mine = this.pods.list().filter((p) => p.metadata.namespace === vmi.metadata.namespace && p.metadata.labels?.[launcherLabels.createdBy] === vmi.metadata.uid);
    return mine.find((p) => p.status?.phase === "Running") ?? mine[0] ?? null;
  }

  /** Where a console request leads (console-lookup.ts). */
  consoleLookup(request: ConsoleRequest): ConsoleLookup {
    const vmi = this.vmis.get(`${request.namespace}/${request.name}`);
    return consoleLookupOf(request, vmi, vmi === undefined ? null : this.#podOf(vmi), this.#opts);
  }

  /** Every VMI of this node with its phase ("" before it has one). */
  vmiPhases(): { vmi: StatsTarget["vmi"]; phase: string }[] {
    return this.vmis.list().map((vmi) => ({ vmi: this.#metricLabels(vmi), phase: vmi.status?.phase ?? "" }));
  }

  #metricLabels(vmi: VmiObj): StatsTarget["vmi"] {
    return { namespace: vmi.metadata.namespace ?? "default", name: vmi.metadata.name ?? "", node: vmi.status?.nodeName ?? this.#opts.nodeName };
  }

  /** The Running VMIs whose launcher's compute container runs: where /metrics asks for stats. */
  statsTargets(): StatsTarget[] {
    const targets: StatsTarget[] = [];
    for (const vmi of this.vmis.list()) {
      const pod = this.#podOf(vmi);
      const uid = pod?.metadata.uid;
      const running = pod?.status?.containerStatuses?.find((c) => c.name === computeContainerName)?.state?.running !== undefined;
      if (vmi.status?.phase !== "Running" || !running || uid === undefined) continue;
      targets.push({
        vmi: this.#metricLabels(vmi),
        stats: async (signal) => new LauncherClient(safeLauncherSocket(this.#opts.kubeletRoot, uid)).stats({ signal }),
      });
    }
    return targets;
  }

  async #ask(pod: PodObj | null): Promise<{ view: LauncherView | null; client: LauncherClient | null }> {
    const running = pod?.status?.containerStatuses?.find((c) => c.name === computeContainerName)?.state?.running !== undefined;
    const uid = pod?.metadata.uid;
    if (pod === null || !running || uid === undefined) return { view: null, client: null };
    let client: LauncherClient;
    try {
      client = new LauncherClient(safeLauncherSocket(this.#opts.kubeletRoot, uid));
    } catch (e) {
      return { view: { kind: "unreachable", reason: (e as Error).message }, client: null };
    }
    try {
      return { view: { kind: "status", reply: await client.status() }, client };
    } catch (e) {
      return { view: { kind: "unreachable", reason: (e as Error).message }, client };
    }
  }

  /** One pass; returns when to look again sooner than the resync (decideVmi's lookAgainMs). */
  async #pass(vmi: VmiObj): Promise<number | undefined> {
    const pod = this.#podOf(vmi);
    const { view, client } = await this.#ask(pod);
    let decision = decideVmi({ vmi, pod, launcher: view, now: new Date() });
    const { command } = decision;
    if (command.kind !== "none" && client !== null) {
      let reply: StatusReply;
      if (command.kind === "sync") {
        const cacheDir = safeStateDir(this.#opts.kubeletRoot, pod!.metadata.uid!, "container-disks");
        const digests = await pullContainerDisks(vmi, cacheDir, this.#opts.registry, this.#opts.log);
        this.#opts.log(`syncing VMI "${keyOf(vmi)}" to its launcher`, objectOf("VirtualMachineInstance", vmi.metadata));
        reply = await client.sync(syncBody(pinImages(vmi, digests)));
      } else if (command.kind === "shutdown") {
        this.#opts.log(`VMI "${keyOf(vmi)}" is deleted: shutting its guest down (grace ${command.graceSeconds} s)`, objectOf("VirtualMachineInstance", vmi.metadata));
        try {
          reply = await client.shutdown(command.graceSeconds);
        } catch (e) {
          // The launcher stops its command API once the VM has ended, which may cut this reply off:
          // the next pass reads how it ended from the pod.
          this.#opts.log(`VMI "${keyOf(vmi)}": the launcher went away during shutdown (${(e as Error).message})`, objectOf("VirtualMachineInstance", vmi.metadata));
          return undefined;
        }
        if (afterShutdown(reply).kind === "kill") reply = await client.kill();
      } else {
        reply = await client.kill();
      }
      decision = decideVmi({ vmi, pod, launcher: { kind: "status", reply }, now: new Date() });
    }
    if (decision.statusChanged) {
      await this.#writes.patchStatus(vmiResource, vmi, decision.status);
      this.#opts.log(`VMI "${keyOf(vmi)}": ${vmi.status?.phase ?? "-"} -> ${decision.status.phase ?? "-"}`, objectOf("VirtualMachineInstance", vmi.metadata));
    }
    return decision.lookAgainMs;
  }
}
