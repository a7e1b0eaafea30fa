/**
 * The controller's loop, run by the Lease holder only: informers on
 * VirtualMachines, VirtualMachineInstances and launcher Pods feed two work
 * queues (VMs, VMIs) by namespace/name; workers run the pure reconcilers
 * (reconcileVm, reconcileVmi) on the cached objects and carry out what they
 * decide through the API server. Expectations are marked as the informers
 * show the creates and deletes, so a slow cache never yields a second VMI or
 * pod. The leader also keeps the shipped cluster instancetypes and
 * preferences (instancetype/common-apply.ts).
 */
import type { V1Pod } from "@kubernetes/client-node";
import { problemsText } from "../../api/problem.ts";
import { validate } from "../../api/validate.ts";
import { kubeFetch } from "../../kube/api-client.ts";
import { objectOfKey, type Logger } from "../../log/logger.ts";
import { Informer, type KubeObject } from "../../kube/informer.ts";
import { isConflict, KubeRest, resourcePath } from "../../kube/rest.ts";
import { Expectations } from "./expectations.ts";
import { ControllerWrites, pdbResource, podResource, vmiResource, vmResource } from "./kube-writes.ts";
import { launcherPdb } from "./launcher-pdb.ts";
import { backoffDelay, clusterBackoff } from "../../retry/backoff.ts";
import type { LauncherPodOptions } from "./launcher-pod.ts";
import { launcherLabels } from "./launcher-pod.ts";
import { keyOf, type Meta, type Vm, type Vmi } from "./model.ts";
import { reconcileVm } from "./reconcile-vm.ts";
import { podCreatedEvent, reconcileVmi, type PodView, type ReconcileVmiResult } from "./reconcile-vmi.ts";
import type { SyncError } from "./vm-status.ts";
import { vmControllerFinalizer } from "./vmi-from-vm.ts";
import { runWorkers, WorkQueue, type HandlerResult } from "./work-queue.ts";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Template } from "../../api/instancetype/expand.ts";
import { usesInstancetypes } from "../../api/instancetype/source.ts";
import { findCondition } from "./model.ts";
import type { Found } from "./instancetype/found-source.ts";
import { InstancetypeInformers } from "./instancetype/informers.ts";
import { planInstancetypes } from "./instancetype/plan.ts";
import { RevisionStore } from "./instancetype/revision-store.ts";
import { keepCommonInstancetypes } from "./instancetype/common-apply.ts";
import type { Retrying } from "../../retry/retry-until.ts";
import { DataVolumeSync } from "./data-volumes/data-volume-sync.ts";

export interface ControllerLoopOptions {
  podOptions: LauncherPodOptions;
  /** Concurrent reconciles per queue. Default 8. */
  workers?: number;
  log: Logger;
  /** Counts a metric (name, help). */
  count?: (name: string, help: string) => void;
  /** Server-side apply the shipped cluster instancetypes and preferences (instancetype/common.ts) while leading. Default: true. */
  applyCommonInstancetypes?: boolean;
  /** The registry settings importer pods get (--registry, --insecure-registry): DataVolumes' registry sources. */
  importRegistry?: { registry?: string; insecureRegistries?: readonly string[] };
}

type VmObj = Vm & KubeObject;
type VmiObj = Vmi & KubeObject;
type PodObj = V1Pod & PodView & KubeObject;

interface OwnerRef {
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

function controllerOf(meta: Meta | { ownerReferences?: unknown }): OwnerRef | undefined {
  return ((meta.ownerReferences ?? []) as OwnerRef[]).find((r) => r.controller === true);
}

export class ControllerLoop {
  readonly vms: Informer<VmObj>;
  readonly vmis: Informer<VmiObj>;
  readonly pods: Informer<PodObj>;
  readonly instancetypes: InstancetypeInformers;
  readonly #revisions: RevisionStore;
  readonly #vmQueue = new WorkQueue();
  readonly #vmiQueue = new WorkQueue();
  readonly #vmExpect = new Expectations();
  readonly #vmiExpect = new Expectations();
  readonly #syncErrors = new Map<string, SyncError>();
  /** When a change of the VM's status began to wait for its VMI to settle (reconcile-vm.ts). */
  readonly #statusHeldSince = new Map<string, number>();
  readonly #writes: ControllerWrites;
  /** VMs' dataVolumeTemplates: claims and importer pods, or CDI's DataVolumes (data-volumes/). */
  readonly dataVolumes: DataVolumeSync;
  readonly #opts: ControllerLoopOptions;
  #workers: Promise<void>[] = [];
  #common: Retrying | undefined;
  #stopped = false;
  #onStop: () => void = () => undefined;
  readonly #stop = new Promise<void>((resolve) => (this.#onStop = resolve));

  constructor(kc: KubeConfig, opts: ControllerLoopOptions) {
    this.#opts = opts;
    this.#writes = new ControllerWrites(new KubeRest(kc), opts.log);
    this.#revisions = new RevisionStore(this.#writes.rest);
    const send = (path: string, init: RequestInit): Promise<Response> => kubeFetch(kc, path, init);
    const log = opts.log;
    // A VM that waits for an instancetype or preference (missing, or in conflict) is looked at again when it changes.
    this.instancetypes = new InstancetypeInformers(send, log, (obj) => {
      for (const vm of this.vms.list()) {
        if (vm.spec.instancetype?.name === obj.metadata.name || vm.spec.preference?.name === obj.metadata.name) this.#vmQueue.add(keyOf(vm));
      }
    });
    const { image, imagePullPolicy, command } = opts.podOptions;
    this.dataVolumes = new DataVolumeSync(kc, {
      log, writes: this.#writes, enqueueVm: (key) => this.#vmQueue.add(key),
      importer: { image, ...(imagePullPolicy !== undefined ? { imagePullPolicy } : {}), ...(command !== undefined ? { command } : {}), ...(opts.importRegistry ?? {}) },
    });
    this.vms = new Informer<VmObj>({
      path: resourcePath(vmResource), fetch: send, apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", log,
      onAdd: (vm) => this.#vmQueue.add(keyOf(vm)),
      onUpdate: (_, vm) => this.#vmQueue.add(keyOf(vm)),
      onDelete: (vm) => this.#vmQueue.add(keyOf(vm)),
    });
    this.vmis = new Informer<VmiObj>({
      path: resourcePath(vmiResource), fetch: send, apiVersion: "kubevirt.io/v1", kind: "VirtualMachineInstance", log,
      onAdd: (vmi) => {
        const vm = this.#ownerVmKey(vmi);
        if (vm !== undefined) {
          this.#vmExpect.creationObserved(vm);
          this.#vmQueue.add(vm);
        }
        this.#vmiQueue.add(keyOf(vmi));
      },
      onUpdate: (_, vmi) => {
        const vm = this.#ownerVmKey(vmi);
        if (vm !== undefined) this.#vmQueue.add(vm);
        this.#vmiQueue.add(keyOf(vmi));
      },
      onDelete: (vmi) => {
        const vm = this.#ownerVmKey(vmi);
        if (vm !== undefined) {
          this.#vmExpect.deletionObserved(vm, vmi.metadata.name ?? "");
          this.#vmQueue.add(vm);
        }
        this.#vmiQueue.add(keyOf(vmi));
      },
    });
    this.pods = new Informer<PodObj>({
      path: resourcePath(podResource), fetch: send, apiVersion: "v1", kind: "Pod", log,
      labelSelector: `${launcherLabels.app}=virt-launcher`,
      onAdd: (pod) => {
        const vmi = this.#ownerVmiKey(pod);
        if (vmi === undefined) return;
        this.#vmiExpect.creationObserved(vmi);
        this.#vmiQueue.add(vmi);
      },
      onUpdate: (_, pod) => {
        const vmi = this.#ownerVmiKey(pod);
        if (vmi !== undefined) this.#vmiQueue.add(vmi);
      },
      onDelete: (pod) => {
        const vmi = this.#ownerVmiKey(pod);
        if (vmi === undefined) return;
        this.#vmiExpect.deletionObserved(vmi, pod.metadata.name ?? "");
        this.#vmiQueue.add(vmi);
      },
    });
  }

  #ownerVmKey(vmi: VmiObj): string | undefined {
    const ref = controllerOf(vmi.metadata);
    return ref?.kind === "VirtualMachine" ? `${vmi.metadata.namespace ?? ""}/${ref.name}` : undefined;
  }

  #ownerVmiKey(pod: PodObj): string | undefined {
    const ref = controllerOf(pod.metadata as Meta);
    return ref?.kind === "VirtualMachineInstance" ? `${pod.metadata.namespace ?? ""}/${ref.name}` : undefined;
  }

  /** Starts the informers, waits for their first lists, then the workers. */
  async start(): Promise<void> {
    for (const i of [this.vms, this.vmis, this.pods, this.instancetypes]) i.start();
    if (this.#opts.applyCommonInstancetypes !== false) this.#common = keepCommonInstancetypes(this.#writes.rest, this.#opts.log);
    await Promise.race([Promise.all([this.vms.synced, this.vmis.synced, this.pods.synced, this.instancetypes.synced, this.dataVolumes.start()]), this.#stop]);
    if (this.#stopped) return;
    this.#opts.log(`caches synced: ${this.vms.size} VMs, ${this.vmis.size} VMIs, ${this.pods.size} launcher pods, instancetypes and preferences`);
    const n = this.#opts.workers ?? 8;
    const onError = (what: string) => (key: string, e: unknown): void => {
      this.#opts.count?.("bunvirt_controller_reconcile_errors_total", "Reconcile passes that failed and were retried.");
      this.#opts.log.warn(`${what} "${key}": ${(e as Error).message}; retrying`, objectOfKey(what, key));
    };
    this.#workers = [
      runWorkers(this.#vmQueue, n, (key) => this.syncVm(key), onError("VirtualMachine")),
      runWorkers(this.#vmiQueue, n, (key) => this.syncVmi(key), onError("VirtualMachineInstance")),
    ];
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#common?.stop();
    this.#onStop();
    this.#vmQueue.shutDown();
    this.#vmiQueue.shutDown();
    await Promise.all([this.vms.stop(), this.vmis.stop(), this.pods.stop(), this.instancetypes.stop(), this.dataVolumes.stop(), ...this.#workers]);
  }

  /**
   * A VM's instancetype and preference (instancetype/plan.ts): the revisions
   * it names read, new ones stored, its status refs written, and the
   * template its VMI is made from — or why none can be made, shown on the
   * VM (Failure condition, and a Warning event when the reason is new).
   */
  async #expand(key: string, vm: VmObj): Promise<{ vm: VmObj; template?: Template | null; syncError?: SyncError }> {
    const status = vm.status as { instancetypeRef?: unknown; preferenceRef?: unknown } | undefined;
    if (!usesInstancetypes(vm) && status?.instancetypeRef === undefined && status?.preferenceRef === undefined) return { vm };
    await this.#revisions.fetchNamed(key, vm);
    const found: Found = {
      object: (kind, namespace, name) => this.instancetypes.get(kind, namespace, name),
      revision: (_, name) => this.#revisions.get(key, name),
    };
    const plan = planInstancetypes(vm, found);
    if (plan.syncError !== undefined) {
      const shown = findCondition(vm.status?.conditions, "Failure");
      if (shown?.message !== plan.syncError.message) this.#writes.event(vm, { type: "Warning", ...plan.syncError });
      return { vm, template: null, syncError: plan.syncError };
    }
    for (const rev of plan.store) await this.#revisions.store(key, rev);
    if (plan.refs === undefined) return { vm, template: plan.template };
    const next = { ...vm.status, ...plan.refs };
    await this.#writes.patchStatus(vmResource, vm, next);
    for (const k of ["instancetypeRef", "preferenceRef"] as const) if (next[k] === undefined) delete next[k];
    return { vm: { ...vm, status: next }, template: plan.template };
  }

  async syncVm(key: string): Promise<HandlerResult | void> {
    let vm = this.vms.get(key);
    if (vm === undefined) {
      this.#revisions.forget(key);
      this.#vmExpect.delete(key);
      this.#syncErrors.delete(key);
      this.#statusHeldSince.delete(key);
      return;
    }
    const cached = this.vmis.get(key);
    // A VMI of that name the VM does not control is not its VMI.
    const owner = cached === undefined ? undefined : controllerOf(cached.metadata);
    const vmi = cached !== undefined && (owner === undefined || owner.uid === vm.metadata.uid) ? cached : null;
    const expanded = await this.#expand(key, vm);
    vm = expanded.vm;
    const syncError = expanded.syncError ?? this.#syncErrors.get(key);
    const heldSince = this.#statusHeldSince.get(key);
    const now = new Date();
    const input = {
      vm, vmi, now, random: Math.random, pending: this.#vmExpect.pending(key),
      ...(syncError !== undefined ? { syncError } : {}),
      ...(expanded.template !== undefined ? { template: expanded.template } : {}),
      vmiUpdateDue: vmi !== null && this.#vmiUpdateDue(vmi, now),
      statusHeldMs: heldSince === undefined ? 0 : now.getTime() - heldSince,
    };
    let result = reconcileVm(input);
    // A VMI to create waits for the VM's DataVolumes: their claims and imports are made now (data-volumes/).
    if (result.action.kind === "create" && (vm.spec.dataVolumeTemplates ?? []).length > 0) {
      const dataVolumes = await this.dataVolumes.sync(vm);
      if (dataVolumes.state !== "ready") result = reconcileVm({ ...input, dataVolumes });
    }
    if (result.statusHeld !== true) this.#statusHeldSince.delete(key);
    else if (heldSince === undefined) this.#statusHeldSince.set(key, now.getTime());
    const w = this.#writes;
    if (result.vmFinalizer === "add") vm = await w.addFinalizer<VmObj>(vmResource, vm, vmControllerFinalizer);

    let failed: Error | undefined;
    const { action } = result;
    if (action.kind === "create") {
      this.#vmExpect.expectCreations(key);
      try {
        // The webhooks skip the controller's own creates (webhook-server.ts): the same checks, here.
        const checked = validate(action.vmi);
        if (!checked.ok) throw new Error(`Cannot create the VirtualMachineInstance "${key}": ${problemsText(checked.problems)}`);
        await w.create(vmiResource, vm.metadata.namespace ?? "default", action.vmi);
        this.#syncErrors.delete(key);
        if (result.event !== undefined) w.event(vm, result.event);
      } catch (e) {
        this.#vmExpect.creationObserved(key);
        failed = e as Error;
        this.#syncErrors.set(key, { reason: "FailedCreate", message: failed.message });
      }
    } else if (action.kind === "delete") {
      this.#vmExpect.expectDeletions(key, [action.name]);
      try {
        await w.delete(vmiResource, vm.metadata.namespace ?? "default", action.name, action.uid);
        this.#syncErrors.delete(key);
        if (result.event !== undefined) w.event(vm, result.event);
      } catch (e) {
        this.#vmExpect.deletionObserved(key, action.name);
        failed = e as Error;
        this.#syncErrors.set(key, { reason: "FailedDelete", message: failed.message });
      }
    } else {
      this.#syncErrors.delete(key);
    }
    if (failed !== undefined) {
      // Show the failure on the VM (its Failure condition) from what is known now, then retry.
      const again = reconcileVm({ vm, vmi, now: new Date(), random: Math.random, pending: this.#vmExpect.pending(key), syncError: this.#syncErrors.get(key)! });
      await w.patchStatus(vmResource, vm, again.status).catch(() => undefined);
      throw failed;
    }
    if (result.statusChanged) await w.patchStatus(vmResource, vm, result.status);
    if (result.releaseVmi === true && vmi !== null) await w.removeFinalizers(vmiResource, vmi, [vmControllerFinalizer]);
    if (result.vmFinalizer === "remove") await w.removeFinalizers(vmResource, vm, [vmControllerFinalizer]);
    return result.requeueAfterMs !== undefined ? { requeueAfterMs: result.requeueAfterMs } : undefined;
  }

  /** The VMI controller's pass over `vmi` from the caches (pure; nothing written). */
  #reconcileVmi(vmi: VmiObj, now: Date): { pods: PodObj[]; result: ReconcileVmiResult } {
    const uid = vmi.metadata.uid;
    const pods = this.pods.list().filter((p) => p.metadata.namespace === vmi.metadata.namespace && controllerOf(p.metadata as Meta)?.uid === uid);
    const ownerRef = controllerOf(vmi.metadata);
    let ownerVmExists = true;
    if (ownerRef?.kind === "VirtualMachine") {
      const vm = this.vms.get(`${vmi.metadata.namespace ?? ""}/${ownerRef.name}`);
      ownerVmExists = vm !== undefined && vm.metadata.uid === ownerRef.uid;
    }
    const pendingCreate = this.#vmiExpect.pending(keyOf(vmi)).creates;
    return { pods, result: reconcileVmi({ vmi, pods, now, pendingCreate, podOptions: this.#opts.podOptions, ownerVmExists }) };
  }

  /** Whether the VMI controller has a write to make on `vmi` (its pod, status, labels or finalizers). */
  #vmiUpdateDue(vmi: VmiObj, now: Date): boolean {
    const { result } = this.#reconcileVmi(vmi, now);
    return result.podAction.kind !== "none" || result.statusChanged || result.labels !== undefined || result.removeFinalizers.length > 0;
  }

  /**
   * The launcher pod's disruption budget, when the VMI's eviction strategy refuses evictions
   * (launcher-pdb.ts). Tried a few times: nothing recreates it for a pod that exists.
   */
  async #guardEviction(vmi: VmiObj, pod: V1Pod): Promise<void> {
    const pdb = launcherPdb(vmi.spec, pod);
    if (pdb === null) return;
    let last: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.#writes.create(pdbResource, pdb.metadata.namespace, pdb);
        return;
      } catch (e) {
        if (isConflict(e)) return; // already there (AlreadyExists)
        last = e;
        await Bun.sleep(backoffDelay(attempt, clusterBackoff));
      }
    }
    this.#writes.event(vmi, { type: "Warning", reason: "FailedCreate", message: `Error creating the PodDisruptionBudget that refuses evictions (evictionStrategy ${vmi.spec.evictionStrategy}): ${(last as Error).message}` });
  }

  async syncVmi(key: string): Promise<void> {
    const vmi = this.vmis.get(key);
    if (vmi === undefined) {
      this.#vmiExpect.delete(key);
      return;
    }
    const { pods, result } = this.#reconcileVmi(vmi, new Date());
    const w = this.#writes;
    const ns = vmi.metadata.namespace ?? "default";
    const { podAction } = result;
    if (podAction.kind === "create") {
      this.#vmiExpect.expectCreations(key);
      let pod: V1Pod;
      try {
        pod = await w.createPod(podAction.pod);
      } catch (e) {
        this.#vmiExpect.creationObserved(key);
        w.event(vmi, { type: "Warning", reason: "FailedCreate", message: `Error creating pod: ${(e as Error).message}` });
        throw e;
      }
      w.event(vmi, podCreatedEvent(pod.metadata?.name ?? "?"));
      await this.#guardEviction(vmi, pod);
    } else if (podAction.kind === "delete") {
      // A pod already deleting or gone satisfies the expectation at once (no event will come for it).
      const fresh = podAction.names.filter((n) => pods.some((p) => p.metadata.name === n));
      this.#vmiExpect.expectDeletions(key, fresh);
      for (const name of fresh) {
        try {
          await w.delete(podResource, ns, name);
        } catch (e) {
          this.#vmiExpect.deletionObserved(key, name);
          throw e;
        }
      }
      if (result.event !== undefined) w.event(vmi, result.event);
    }
    if (result.labels !== undefined || result.statusChanged) {
      await w.patchObject(vmiResource, vmi, { ...(result.labels !== undefined ? { labels: result.labels } : {}), ...(result.statusChanged ? { status: result.status } : {}) });
    }
    if (result.removeFinalizers.length > 0) {
      // The status write changed the object: remove against the finalizers as cached (the test guards them).
      await w.removeFinalizers(vmiResource, vmi, result.removeFinalizers);
    }
  }
}

export { keyOf };
