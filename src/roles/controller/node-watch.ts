/**
 * The controller's node check (KubeVirt's node controller), run by the Lease
 * holder beside its loop: an informer on Nodes, the loop's VMI and launcher
 * pod caches, and the pure decision of node-health.ts; it marks a node whose
 * handler stopped its heartbeat unschedulable and fails that node's VMIs
 * whose pods are gone (NodeUnresponsive).
 *
 * When it runs: a Node's change (a heartbeat) checks that node at once, and
 * every node is checked again on a timer (recheckMs: KubeVirt's minute, a
 * quarter of a short timeout). The timer is needed anyway — a heartbeat goes
 * stale by time passing, with no event — and the same sweep covers a VMI or
 * pod change on a dead node within one period, so the loop's VMI and pod
 * informers need no extra handlers (the loop stays as it is). Checks run one
 * at a time; the writes are few and only on a dead node.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeFetch } from "../../kube/api-client.ts";
import { Informer, type KubeObject } from "../../kube/informer.ts";
import type { Logger } from "../../log/logger.ts";
import { isNotFound, KubeRest, resourcePath } from "../../kube/rest.ts";
import { ControllerWrites, statusPath, vmiResource } from "./kube-writes.ts";
import { schedulableNodeLabel } from "./launcher-pod.ts";
import type { Vmi } from "./model.ts";
import { checkNode, nodesToCheck, nodeUnresponsiveReason, nodeUnresponsiveStatus, recheckMs, type NodePodView, type NodeView } from "./node-health.ts";

const nodeResource = { group: "", version: "v1", plural: "nodes" } as const;

type NodeObj = NodeView & KubeObject;
type VmiObj = Vmi & KubeObject;

/** What is read of an informer. */
export interface Cache<T> {
  readonly synced: Promise<void>;
  list(): T[];
}

export interface NodeWatchOptions {
  /** Seconds without a heartbeat before a node is unresponsive. */
  timeoutSeconds: number;
  /** The loop's caches (read only). */
  vmis: Cache<VmiObj>;
  pods: Cache<NodePodView>;
  log: Logger;
}

export class NodeWatch {
  readonly nodes: Informer<NodeObj>;
  readonly #opts: NodeWatchOptions;
  readonly #writes: ControllerWrites;
  readonly #timeoutMs: number;
  readonly #wanted = new Set<string>();
  #all = false;
  #running: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #ready = false;
  #stopped = false;

  constructor(kc: KubeConfig, opts: NodeWatchOptions) {
    this.#opts = opts;
    this.#timeoutMs = opts.timeoutSeconds * 1000;
    this.#writes = new ControllerWrites(new KubeRest(kc), opts.log);
    this.nodes = new Informer<NodeObj>({
      path: resourcePath(nodeResource), fetch: (path, init) => kubeFetch(kc, path, init), apiVersion: "v1", kind: "Node", log: opts.log,
      onAdd: (n) => this.#want(n.metadata.name),
      onUpdate: (_, n) => this.#want(n.metadata.name),
      onDelete: (n) => this.#want(n.metadata.name),
    });
  }

  start(): void {
    this.nodes.start();
    void Promise.all([this.nodes.synced, this.#opts.vmis.synced, this.#opts.pods.synced]).then(() => {
      if (this.#stopped) return;
      this.#ready = true;
      this.#timer = setInterval(() => this.#wantAll(), recheckMs(this.#timeoutMs));
      this.#wantAll();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.nodes.stop();
    await this.#running;
  }

  #want(name: string | undefined): void {
    if (name === undefined) return;
    this.#wanted.add(name);
    this.#kick();
  }

  #wantAll(): void {
    this.#all = true;
    this.#kick();
  }

  #kick(): void {
    if (!this.#ready || this.#stopped || this.#running !== undefined) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#all || this.#wanted.size > 0) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    while (!this.#stopped && (this.#all || this.#wanted.size > 0)) {
      let names: string[];
      if (this.#all) {
        this.#all = false;
        this.#wanted.clear();
        names = nodesToCheck(this.nodes.list(), this.#opts.vmis.list());
      } else {
        names = [...this.#wanted];
        this.#wanted.clear();
      }
      for (const name of names) {
        if (this.#stopped) return;
        try {
          await this.#check(name);
        } catch (e) {
          // The next sweep tries again.
          this.#opts.log.warn(`Cannot check node "${name}": ${(e as Error).message}`);
        }
      }
    }
  }

  async #check(name: string): Promise<void> {
    const node = this.nodes.get(`/${name}`) ?? null;
    const result = checkNode({
      nodeName: name, node, vmis: this.#opts.vmis.list(), pods: this.#opts.pods.list(), now: new Date(), timeoutMs: this.#timeoutMs,
    });
    if (!result.unresponsive) return;
    const rest = this.#writes.rest;
    if (result.markUnschedulable) {
      this.#opts.log.warn(`the handler of node "${name}" is not responsive: marking the node unschedulable`, { kind: "Node", name });
      await rest.patch(resourcePath(nodeResource, undefined, name), "merge", { metadata: { labels: { [schedulableNodeLabel]: "false" } } });
    }
    for (const vmi of result.failVmis as VmiObj[]) {
      const ns = vmi.metadata.namespace ?? "default";
      const vmiName = vmi.metadata.name ?? "";
      this.#opts.log.warn(`VMI "${ns}/${vmiName}" on unresponsive node "${name}" has no live launcher pod: Failed (${nodeUnresponsiveReason})`, { kind: "VirtualMachineInstance", namespace: ns, name: vmiName });
      try {
        // The cached resourceVersion guards the write: a VMI changed meanwhile is checked again next time.
        await rest.patch(statusPath(vmiResource, ns, vmiName), "merge", {
          metadata: { resourceVersion: vmi.metadata.resourceVersion },
          status: nodeUnresponsiveStatus(vmi, new Date()),
        });
      } catch (e) {
        if (isNotFound(e)) continue;
        throw e;
      }
      this.#writes.event(vmi, { type: "Normal", reason: nodeUnresponsiveReason, message: `virt-handler on node ${name} is not responsive, marking VMI as failed` });
    }
  }
}
