/**
 * The I/O around decideDataVolumes: whether CDI is installed (asked once,
 * at start, from discovery), informers on claims, importer pods and (with
 * CDI) DataVolumes that queue the VM they belong to, and the writes the
 * decision asks for. Creates are idempotent by name (an AlreadyExists is
 * what the cache will show), so no expectations are needed.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeFetch } from "../../../kube/api-client.ts";
import { Informer, type KubeObject } from "../../../kube/informer.ts";
import { isConflict, resourcePath } from "../../../kube/rest.ts";
import type { Logger } from "../../../log/logger.ts";
import type { ControllerWrites } from "../kube-writes.ts";
import { podResource } from "../kube-writes.ts";
import type { Vm } from "../model.ts";
import { dataVolumeResource } from "./cdi-data-volume.ts";
import { decideDataVolumes, type ClaimView, type DataVolumeAction, type DataVolumesState, type DataVolumeView, type ImporterView } from "./decide-data-volumes.ts";
import { ImportProgress } from "./import-progress.ts";
import { importerContainerName, importerLabel, type ImporterOptions } from "./importer-pod.ts";

export const claimResource = { group: "", version: "v1", plural: "persistentvolumeclaims", statusSubresource: true } as const;

type ClaimObj = ClaimView & KubeObject;
type ImporterObj = ImporterView & KubeObject;
type DataVolumeObj = DataVolumeView & KubeObject;

interface Ref {
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

function controllerOf(meta: object): Ref | undefined {
  return (((meta as { ownerReferences?: unknown }).ownerReferences ?? []) as Ref[]).find((r) => r.controller === true);
}

/** Whether the API server serves cdi.kubevirt.io/v1beta1 datavolumes (null: it could not be asked). */
export async function cdiInstalled(send: (path: string) => Promise<Response>): Promise<boolean | null> {
  let res: Response;
  try {
    res = await send(`/apis/${dataVolumeResource.group}/${dataVolumeResource.version}`);
  } catch {
    return null;
  }
  if (res.status === 404) return false;
  if (!res.ok) return null;
  const list = (await res.json().catch(() => ({}))) as { resources?: { name?: string }[] };
  return (list.resources ?? []).some((r) => r.name === dataVolumeResource.plural);
}

export interface DataVolumeSyncOptions {
  log: Logger;
  writes: ControllerWrites;
  /** Queues a VM (namespace/name) again. */
  enqueueVm(key: string): void;
  importer: ImporterOptions;
  /** How often the running importers' logs are read for their percent. Default 3000 ms. */
  progressIntervalMs?: number;
}

/** Whether an importer pod's container runs now (its log has progress to read). */
function importing(p: ImporterObj): boolean {
  if (p.metadata.deletionTimestamp !== undefined && p.metadata.deletionTimestamp !== null) return false;
  const c = p.status?.containerStatuses?.find((s) => s.name === importerContainerName);
  return p.status?.phase === "Running" && c?.state?.terminated === undefined && c?.state?.waiting === undefined;
}

export class DataVolumeSync {
  readonly claims: Informer<ClaimObj>;
  readonly importers: Informer<ImporterObj>;
  #dataVolumes: Informer<DataVolumeObj> | undefined;
  readonly #progress: ImportProgress;
  /** namespace/claim → the last quarter of its import recorded as an event. */
  readonly #quarters = new Map<string, number>();
  #cdi = false;
  readonly #kc: KubeConfig;
  readonly #opts: DataVolumeSyncOptions;

  constructor(kc: KubeConfig, opts: DataVolumeSyncOptions) {
    this.#kc = kc;
    this.#opts = opts;
    const send = (path: string, init: RequestInit): Promise<Response> => kubeFetch(kc, path, init);
    const log = opts.log;
    const ownerVm = (o: KubeObject): void => {
      const ref = controllerOf(o.metadata);
      if (ref?.kind === "VirtualMachine") opts.enqueueVm(`${o.metadata.namespace ?? ""}/${ref.name}`);
    };
    // The importer pod's owner is its claim; the claim's is the VM.
    const viaClaim = (pod: KubeObject): void => {
      const ref = controllerOf(pod.metadata);
      const claim = ref?.kind === "PersistentVolumeClaim" ? this.claims.get(`${pod.metadata.namespace ?? ""}/${ref.name}`) : undefined;
      if (claim !== undefined) ownerVm(claim);
    };
    this.claims = new Informer<ClaimObj>({
      path: resourcePath(claimResource), fetch: send, apiVersion: "v1", kind: "PersistentVolumeClaim", log,
      onAdd: ownerVm, onUpdate: (_, c) => ownerVm(c), onDelete: ownerVm,
    });
    this.importers = new Informer<ImporterObj>({
      path: resourcePath(podResource), fetch: send, apiVersion: "v1", kind: "Pod", log,
      labelSelector: `${importerLabel.key}=${importerLabel.value}`,
      onAdd: viaClaim, onUpdate: (_, p) => viaClaim(p), onDelete: viaClaim,
    });
    this.#progress = new ImportProgress({
      send, log,
      running: () => this.importers.list().filter(importing).map((p) => ({ namespace: p.metadata.namespace ?? "", name: p.metadata.name ?? "" })),
      onChange: (ref) => {
        const pod = this.importers.get(`${ref.namespace}/${ref.name}`);
        if (pod !== undefined) viaClaim(pod);
      },
      ...(opts.progressIntervalMs !== undefined ? { intervalMs: opts.progressIntervalMs } : {}),
    });
  }

  /** Asks discovery whether CDI is installed (once), then lists and watches. */
  async start(): Promise<void> {
    let cdi: boolean | null = null;
    for (let attempt = 0; attempt < 5 && cdi === null; attempt++) {
      if (attempt > 0) await Bun.sleep(1000 * attempt);
      cdi = await cdiInstalled((path) => kubeFetch(this.#kc, path, { headers: { accept: "application/json" } }));
    }
    this.#cdi = cdi === true;
    const log = this.#opts.log;
    if (cdi === null) log.warn("Cannot ask the API server whether CDI is installed (cdi.kubevirt.io/v1beta1); bunvirt imports DataVolumes itself");
    log(this.#cdi
      ? "CDI is installed (cdi.kubevirt.io/v1beta1 datavolumes): VMs' dataVolumeTemplates become DataVolumes, CDI imports them"
      : "CDI is not installed: bunvirt imports VMs' dataVolumeTemplates itself (a claim and an importer pod each)");
    if (this.#cdi) {
      const send = (path: string, init: RequestInit): Promise<Response> => kubeFetch(this.#kc, path, init);
      const ownerVm = (o: KubeObject): void => {
        const ref = controllerOf(o.metadata);
        if (ref?.kind === "VirtualMachine") this.#opts.enqueueVm(`${o.metadata.namespace ?? ""}/${ref.name}`);
      };
      this.#dataVolumes = new Informer<DataVolumeObj>({
        path: resourcePath(dataVolumeResource), fetch: send, apiVersion: "cdi.kubevirt.io/v1beta1", kind: "DataVolume", log,
        onAdd: ownerVm, onUpdate: (_, d) => ownerVm(d), onDelete: ownerVm,
      });
    }
    const informers = [this.claims, this.importers, ...(this.#dataVolumes !== undefined ? [this.#dataVolumes] : [])];
    for (const i of informers) i.start();
    await Promise.all(informers.map((i) => i.synced));
    if (!this.#cdi) this.#progress.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.#progress.stop(), this.claims.stop(), this.importers.stop(), this.#dataVolumes?.stop()]);
  }

  /** Decides from the caches, makes the writes, and returns the state the VM waits in. */
  async sync(vm: Vm & KubeObject): Promise<DataVolumesState> {
    const ns = vm.metadata.namespace ?? "default";
    const result = decideDataVolumes({
      vm,
      cdi: this.#cdi,
      claim: (name) => this.claims.get(`${ns}/${name}`),
      importer: (name) => this.importers.get(`${ns}/${name}`),
      importPercent: (pod) => this.#progress.percent(ns, pod),
      quarterRecorded: (claim) => this.#quarters.get(`${ns}/${claim}`) ?? 0,
      dataVolume: (name) => this.#dataVolumes?.get(`${ns}/${name}`),
      importerOptions: this.#opts.importer,
    });
    for (const action of result.actions) await this.#carryOut(vm, ns, action);
    return result.state;
  }

  async #carryOut(vm: Vm & KubeObject, ns: string, action: DataVolumeAction): Promise<void> {
    const w = this.#opts.writes;
    const created = async (write: Promise<unknown>): Promise<boolean> => {
      try {
        await write;
        return true;
      } catch (e) {
        if (isConflict(e)) return false; // AlreadyExists: the cache will show it
        throw e;
      }
    };
    switch (action.kind) {
      case "createClaim":
        if (await created(w.create(claimResource, ns, action.claim))) w.event(vm, action.event);
        return;
      case "createImporter":
        if (await created(w.create(podResource, ns, action.pod))) w.event(vm, action.event);
        return;
      case "createDataVolume":
        if (await created(w.create(dataVolumeResource, ns, action.dataVolume))) w.event(vm, action.event);
        return;
      case "annotateClaim":
        await w.rest.patch(resourcePath(claimResource, ns, action.name), "merge", { metadata: { annotations: action.annotations } });
        if (action.event !== undefined) w.event(vm, action.event);
        return;
      case "deleteImporter":
        this.#quarters.delete(`${ns}/${action.claim}`);
        await w.delete(podResource, ns, action.name);
        return;
      case "progressEvent":
        this.#quarters.set(`${ns}/${action.name}`, action.quarter);
        w.event(vm, action.event);
        return;
    }
  }
}

