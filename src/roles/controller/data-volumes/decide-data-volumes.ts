/**
 * Whether a VM's dataVolumeTemplates are ready for its VMI, and what to do
 * until they are — pure: from the VM and what the caches hold (claims,
 * importer pods, CDI DataVolumes), the writes to make and the state to show.
 *
 * Without CDI, bunvirt plays CDI's part for each template: the claim (named
 * after it, owned by the VM), an importer pod on it, and the outcome kept on
 * the claim in CDI's annotations (`cdi.kubevirt.io/storage.pod.phase`
 * Succeeded marks a finished import: never redone, the pod deleted). A claim
 * of that name the VM does not own is used as it is, as CDI adopts a claim
 * that exists. A failed import (the importer's container ended non-zero;
 * the kubelet restarts it, restartPolicy OnFailure) shows as
 * DataVolumeError with the importer's termination message. CDI's event
 * reasons are recorded on the VM when the claim's annotations change:
 * ImportScheduled, ImportInProgress, ImportSucceeded, ImportFailed. The
 * percent of an import under way (read from the importer's log) is in the
 * VM's DataVolumesReady message, and each quarter passed is an
 * ImportInProgress event with the percent.
 *
 * With CDI, a `cdi.kubevirt.io/v1beta1` DataVolume per template (owned by
 * the VM) and its `status.phase` decides, as KubeVirt's VM controller:
 * Succeeded (or WaitForFirstConsumer, PendingPopulation) is ready, Failed
 * is an error, anything else is still provisioning.
 */
import type { V1PersistentVolumeClaim, V1Pod } from "@kubernetes/client-node";
import type { DataVolumeTemplate } from "../../../api/v1/data-volume.ts";
import type { Meta, Vm } from "../model.ts";
import type { KubeEvent } from "../reconcile-vm.ts";
import { cdiDataVolume, type CdiDataVolume } from "./cdi-data-volume.ts";
import { claimFromTemplate } from "./claim-from-template.ts";
import { percentText } from "../../../storage/import/progress-line.ts";
import { importerContainerName, importerPod, importerPodName, type ImporterOptions } from "./importer-pod.ts";

/** CDI's claim annotations, kept by the controller from the importer pod it watches. */
export const claimAnnotations = {
  podPhase: "cdi.kubevirt.io/storage.pod.phase",
  podRestarts: "cdi.kubevirt.io/storage.pod.restarts",
  runningMessage: "cdi.kubevirt.io/storage.condition.running.message",
} as const;

export interface ClaimView {
  metadata?: Pick<Meta, "name" | "uid" | "annotations" | "ownerReferences" | "deletionTimestamp">;
  status?: { phase?: string };
}

interface Terminated {
  exitCode: number;
  reason?: string;
  message?: string;
}

export interface ImporterView {
  metadata?: { name?: string; deletionTimestamp?: string | Date | null };
  status?: {
    phase?: string;
    containerStatuses?: { name: string; restartCount?: number; state?: { terminated?: Terminated; waiting?: { reason?: string } }; lastState?: { terminated?: Terminated } }[];
  };
}

export interface DataVolumeView {
  metadata?: { name?: string };
  status?: { phase?: string; progress?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/** The templates as a whole: ready, or what the VM shows instead (printableStatus). */
export type DataVolumesState =
  | { state: "ready" }
  | { state: "provisioning" | "binding" | "error"; reason: string; message: string };

export type DataVolumeAction =
  | { kind: "createClaim"; claim: V1PersistentVolumeClaim; event: KubeEvent }
  | { kind: "annotateClaim"; name: string; annotations: Record<string, string | null>; event?: KubeEvent }
  | { kind: "createImporter"; pod: V1Pod; event: KubeEvent }
  | { kind: "deleteImporter"; name: string; claim: string }
  /** An event for a quarter of the import passed; `quarter` is remembered so it is recorded once. */
  | { kind: "progressEvent"; name: string; quarter: number; event: KubeEvent }
  | { kind: "createDataVolume"; dataVolume: CdiDataVolume; event: KubeEvent };

export interface DataVolumesInput {
  vm: Vm;
  /** A DataVolume CRD (cdi.kubevirt.io) is served: CDI imports, bunvirt waits. */
  cdi: boolean;
  claim(name: string): ClaimView | undefined;
  importer(podName: string): ImporterView | undefined;
  /** The percent the importer pod's log shows (undefined: not known). */
  importPercent?(podName: string): number | undefined;
  /** The last quarter (25, 50, 75) recorded as an event for this claim's import; 0 for none. */
  quarterRecorded?(claim: string): number;
  dataVolume(name: string): DataVolumeView | undefined;
  importerOptions: ImporterOptions;
}

export interface DataVolumesResult {
  state: DataVolumesState;
  actions: DataVolumeAction[];
}

type One = { state: DataVolumesState; actions: DataVolumeAction[] };

const ready: DataVolumesState = { state: "ready" };
const provisioning = (reason: string, message: string): DataVolumesState => ({ state: "provisioning", reason, message });

const deleting = (m: { deletionTimestamp?: unknown } | undefined): boolean => m?.deletionTimestamp !== undefined && m.deletionTimestamp !== null;

/** The annotations of `next` that differ from `current` (null: remove one that is there). */
function annotationChanges(current: Record<string, string>, next: Record<string, string | null>): Record<string, string | null> | null {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(next)) {
    if (v === null ? k in current : current[k] !== v) out[k] = v;
  }
  return Object.keys(out).length > 0 ? out : null;
}

function annotate(name: string, current: Record<string, string>, next: Record<string, string | null>, event?: KubeEvent): DataVolumeAction[] {
  const changes = annotationChanges(current, next);
  return changes === null ? [] : [{ kind: "annotateClaim", name, annotations: changes, ...(event !== undefined ? { event } : {}) }];
}

/** The importer's failure: its container ended non-zero now, or did before the kubelet's restart. */
function importFailure(pod: ImporterView): Terminated | undefined {
  const c = pod.status?.containerStatuses?.find((s) => s.name === importerContainerName);
  const now = c?.state?.terminated;
  if (now !== undefined && now.exitCode !== 0) return now;
  const before = c?.lastState?.terminated;
  if (c?.state?.terminated === undefined && c?.state?.waiting !== undefined && before !== undefined && before.exitCode !== 0) return before;
  return undefined;
}

function restartsOf(pod: ImporterView): number {
  return pod.status?.containerStatuses?.find((s) => s.name === importerContainerName)?.restartCount ?? 0;
}

function ownImport(input: DataVolumesInput, t: DataVolumeTemplate): One {
  const name = t.metadata.name;
  const { vm } = input;
  const pvc = input.claim(name);
  if (pvc === undefined) {
    return {
      state: provisioning("ClaimPending", `DataVolume ${name}: creating its PersistentVolumeClaim`),
      actions: [{ kind: "createClaim", claim: claimFromTemplate(vm, t), event: { type: "Normal", reason: "SuccessfulCreate", message: `Created PersistentVolumeClaim ${name} for DataVolume ${name}` } }],
    };
  }
  if (deleting(pvc.metadata)) return { state: provisioning("ClaimDeleting", `DataVolume ${name}: its PersistentVolumeClaim is being deleted`), actions: [] };
  const owner = (pvc.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  // A claim the VM did not make is used as it is (CDI's claim adoption): someone filled it.
  if (owner?.uid !== vm.metadata.uid) return { state: ready, actions: [] };
  const ann = pvc.metadata?.annotations ?? {};
  const podName = importerPodName(name);
  const pod = input.importer(podName);
  if (ann[claimAnnotations.podPhase] === "Succeeded") {
    return { state: ready, actions: pod !== undefined && !deleting(pod.metadata) ? [{ kind: "deleteImporter", name: podName, claim: name }] : [] };
  }
  if (pod === undefined) {
    return {
      state: provisioning("ImportScheduled", `DataVolume ${name}: import scheduled`),
      actions: [
        ...annotate(name, ann, { [claimAnnotations.podPhase]: "Pending" }),
        { kind: "createImporter", pod: importerPod(vm, t, { metadata: { name, uid: pvc.metadata?.uid } }, input.importerOptions), event: { type: "Normal", reason: "ImportScheduled", message: `Import into ${name} scheduled` } },
      ],
    };
  }
  if (deleting(pod.metadata)) return { state: provisioning("ImportScheduled", `DataVolume ${name}: the importer pod ${podName} is being deleted`), actions: [] };
  const phase = pod.status?.phase ?? "Pending";
  const restarts = String(restartsOf(pod));
  if (phase === "Succeeded") {
    return {
      state: ready,
      actions: [
        ...annotate(name, ann, { [claimAnnotations.podPhase]: "Succeeded", [claimAnnotations.podRestarts]: restarts, [claimAnnotations.runningMessage]: null },
          { type: "Normal", reason: "ImportSucceeded", message: `Successfully imported into PVC ${name}` }),
        { kind: "deleteImporter", name: podName, claim: name },
      ],
    };
  }
  const failure = importFailure(pod);
  if (phase === "Failed" || failure !== undefined) {
    const why = failure?.message?.trim() || failure?.reason || `the importer pod ${podName} failed`;
    const message = `DataVolume ${name}: import failed${restarts !== "0" ? ` (restarts: ${restarts})` : ""}: ${why}`;
    return {
      state: { state: "error", reason: "ImportFailed", message },
      actions: annotate(name, ann, { [claimAnnotations.podPhase]: phase, [claimAnnotations.podRestarts]: restarts, [claimAnnotations.runningMessage]: why },
        { type: "Warning", reason: "ImportFailed", message: `Import into ${name} failed: ${why}` }),
    };
  }
  if (phase === "Running") {
    const event: KubeEvent | undefined = ann[claimAnnotations.podPhase] !== "Running" ? { type: "Normal", reason: "ImportInProgress", message: `Import into ${name} in progress` } : undefined;
    const percent = input.importPercent?.(podName);
    const quarter = percent === undefined ? 0 : Math.min(75, Math.floor(percent / 25) * 25);
    const progressEvent: DataVolumeAction[] = percent !== undefined && quarter > (input.quarterRecorded?.(name) ?? 0)
      ? [{ kind: "progressEvent", name, quarter, event: { type: "Normal", reason: "ImportInProgress", message: `Import into ${name} in progress: ${percentText(percent)}` } }]
      : [];
    return {
      state: provisioning("ImportInProgress", `DataVolume ${name}: import in progress${percent !== undefined ? `, ${percentText(percent)}` : ""}`),
      actions: [...annotate(name, ann, { [claimAnnotations.podPhase]: "Running", [claimAnnotations.podRestarts]: restarts, [claimAnnotations.runningMessage]: null }, event), ...progressEvent],
    };
  }
  if (pvc.status?.phase === "Pending") {
    return { state: { state: "binding", reason: "ClaimPending", message: `DataVolume ${name}: PersistentVolumeClaim ${name} is not bound yet` }, actions: [] };
  }
  return { state: provisioning("ImportScheduled", `DataVolume ${name}: import scheduled (pod ${podName} ${phase})`), actions: [] };
}

/** KubeVirt's reading of a CDI DataVolume. */
function cdiImport(input: DataVolumesInput, t: DataVolumeTemplate): One {
  const name = t.metadata.name;
  const dv = input.dataVolume(name);
  if (dv === undefined) {
    return {
      state: provisioning("Pending", `DataVolume ${name}: created`),
      actions: [{ kind: "createDataVolume", dataVolume: cdiDataVolume(input.vm, t), event: { type: "Normal", reason: "SuccessfulDataVolumeCreate", message: `Created DataVolume ${name}` } }],
    };
  }
  const phase = dv.status?.phase ?? "";
  if (phase === "Succeeded" || phase === "WaitForFirstConsumer" || phase === "PendingPopulation") return { state: ready, actions: [] };
  const running = dv.status?.conditions?.find((c) => c.type === "Running");
  if (phase === "Failed" || (running?.status === "False" && (running.reason === "Error" || running.reason === "ImagePullFailed"))) {
    return { state: { state: "error", reason: "FailedDataVolumeImport", message: `DataVolume ${name} failed to import disk image${running?.message !== undefined ? `: ${running.message}` : ""}` }, actions: [] };
  }
  const progress = dv.status?.progress !== undefined && dv.status.progress !== "N/A" ? `, ${dv.status.progress}` : "";
  return { state: provisioning(phase === "" ? "Pending" : phase, `DataVolume ${name}: ${phase === "" ? "Pending" : phase}${progress}`), actions: [] };
}

const rank: Record<DataVolumesState["state"], number> = { error: 3, provisioning: 2, binding: 1, ready: 0 };

/** Every template's writes, and the state of the worst one (KubeVirt's order: error, then provisioning, then binding). */
export function decideDataVolumes(input: DataVolumesInput): DataVolumesResult {
  const actions: DataVolumeAction[] = [];
  let state: DataVolumesState = ready;
  for (const t of input.vm.spec.dataVolumeTemplates ?? []) {
    const one = input.cdi ? cdiImport(input, t) : ownImport(input, t);
    actions.push(...one.actions);
    if (rank[one.state.state] > rank[state.state]) state = one.state;
  }
  return { state, actions };
}
