import { describe, expect, test } from "bun:test";
import type { Vm } from "../model.ts";
import { claimAnnotations, decideDataVolumes, type ClaimView, type DataVolumesInput, type DataVolumeView, type ImporterView } from "./decide-data-volumes.ts";

const vm: Vm = {
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachine",
  metadata: { name: "vm1", namespace: "ns", uid: "vm-uid" },
  spec: {
    runStrategy: "Always",
    template: { spec: { domain: { devices: {} } } },
    dataVolumeTemplates: [
      { metadata: { name: "root" }, spec: { source: { http: { url: "http://10.0.0.1/disk.qcow2" } }, storage: { resources: { requests: { storage: "1Gi" } } } } },
    ],
  },
};
const owned = { ownerReferences: [{ apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", name: "vm1", uid: "vm-uid", controller: true }] };
const claim = (annotations: Record<string, string> = {}, phase = "Bound"): ClaimView => ({ metadata: { name: "root", uid: "pvc-uid", annotations, ...owned }, status: { phase } });
const pod = (phase: string, container: NonNullable<ImporterView["status"]>["containerStatuses"] = []): ImporterView => ({ metadata: { name: "importer-root" }, status: { phase, containerStatuses: container } });

function decide(over: { claim?: ClaimView; pod?: ImporterView; cdi?: boolean; dv?: DataVolumeView; percent?: number; quarter?: number }) {
  const input: DataVolumesInput = {
    vm,
    cdi: over.cdi ?? false,
    claim: (n) => (n === "root" ? over.claim : undefined),
    importer: (n) => (n === "importer-root" ? over.pod : undefined),
    dataVolume: (n) => (n === "root" ? over.dv : undefined),
    importerOptions: { image: "bunvirt:test" },
    importPercent: (n) => (n === "importer-root" ? over.percent : undefined),
    quarterRecorded: (n) => (n === "root" ? (over.quarter ?? 0) : 0),
  };
  return decideDataVolumes(input);
}

describe("without CDI: bunvirt imports", () => {
  test("no claim: create it, owned by the VM; Provisioning", () => {
    const r = decide({});
    expect(r.state).toMatchObject({ state: "provisioning" });
    expect(r.actions.map((a) => a.kind)).toEqual(["createClaim"]);
    const a = r.actions[0]!;
    if (a.kind !== "createClaim") throw new Error("unreachable");
    expect(a.claim.metadata?.name).toBe("root");
    expect(a.claim.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "VirtualMachine", uid: "vm-uid", controller: true });
    expect(a.claim.spec?.accessModes).toEqual(["ReadWriteOnce"]);
    expect(a.claim.spec?.volumeMode).toBe("Filesystem");
  });

  test("a claim without its import: the claim marked Pending, the importer pod created (ImportScheduled)", () => {
    const r = decide({ claim: claim() });
    expect(r.state).toMatchObject({ state: "provisioning", reason: "ImportScheduled" });
    expect(r.actions).toMatchObject([
      { kind: "annotateClaim", name: "root", annotations: { [claimAnnotations.podPhase]: "Pending" } },
      { kind: "createImporter", pod: { metadata: { name: "importer-root" } }, event: { reason: "ImportScheduled", message: "Import into root scheduled" } },
    ]);
  });

  test("the importer running: ImportInProgress once (the claim's phase annotation keeps it from repeating)", () => {
    const running = pod("Running", [{ name: "importer", restartCount: 0, state: {} }]);
    const r = decide({ claim: claim({ [claimAnnotations.podPhase]: "Pending" }), pod: running });
    expect(r.state).toMatchObject({ state: "provisioning", reason: "ImportInProgress" });
    expect(r.actions).toMatchObject([{ kind: "annotateClaim", annotations: { [claimAnnotations.podPhase]: "Running", [claimAnnotations.podRestarts]: "0" }, event: { reason: "ImportInProgress" } }]);
    const again = decide({ claim: claim({ [claimAnnotations.podPhase]: "Running", [claimAnnotations.podRestarts]: "0" }), pod: running });
    expect(again.actions).toEqual([]);
  });

  test("the percent from the importer's log: in the message, and an ImportInProgress event per quarter passed, once each", () => {
    const running = pod("Running", [{ name: "importer", restartCount: 0, state: {} }]);
    const seen = claim({ [claimAnnotations.podPhase]: "Running", [claimAnnotations.podRestarts]: "0" });
    const early = decide({ claim: seen, pod: running, percent: 12.5 });
    expect(early.state).toMatchObject({ state: "provisioning", reason: "ImportInProgress", message: "DataVolume root: import in progress, 12.50%" });
    expect(early.actions).toEqual([]);
    const half = decide({ claim: seen, pod: running, percent: 57.125 });
    expect(half.actions).toEqual([{ kind: "progressEvent", name: "root", quarter: 50, event: { type: "Normal", reason: "ImportInProgress", message: "Import into root in progress: 57.13%" } }]);
    expect(decide({ claim: seen, pod: running, percent: 60, quarter: 50 }).actions).toEqual([]);
    // 100% while the pod still runs (converting): the last event is for 75.
    expect(decide({ claim: seen, pod: running, percent: 100, quarter: 50 }).actions).toMatchObject([{ kind: "progressEvent", quarter: 75 }]);
    expect(decide({ claim: seen, pod: running, percent: 100, quarter: 75 }).actions).toEqual([]);
  });

  test("the importer succeeded: the claim marked Succeeded (ImportSucceeded), the pod deleted, ready", () => {
    const r = decide({ claim: claim({ [claimAnnotations.podPhase]: "Running" }), pod: pod("Succeeded") });
    expect(r.state).toEqual({ state: "ready" });
    expect(r.actions).toMatchObject([
      { kind: "annotateClaim", annotations: { [claimAnnotations.podPhase]: "Succeeded" }, event: { reason: "ImportSucceeded", message: "Successfully imported into PVC root" } },
      { kind: "deleteImporter", name: "importer-root" },
    ]);
  });

  test("a claim marked Succeeded is ready and never imported again: no pod is made; a leftover pod is deleted", () => {
    expect(decide({ claim: claim({ [claimAnnotations.podPhase]: "Succeeded" }) })).toEqual({ state: { state: "ready" }, actions: [] });
    expect(decide({ claim: claim({ [claimAnnotations.podPhase]: "Succeeded" }), pod: pod("Succeeded") }).actions).toEqual([{ kind: "deleteImporter", name: "importer-root", claim: "root" }]);
  });

  test("a failed import (the kubelet restarting it): DataVolumeError with the termination message, ImportFailed when the message is new", () => {
    const crashing = pod("Running", [{ name: "importer", restartCount: 2, state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 1, message: 'Cannot import DataVolume "root": HTTP 404' } } }]);
    const r = decide({ claim: claim({ [claimAnnotations.podPhase]: "Running" }), pod: crashing });
    expect(r.state).toEqual({ state: "error", reason: "ImportFailed", message: 'DataVolume root: import failed (restarts: 2): Cannot import DataVolume "root": HTTP 404' });
    expect(r.actions).toMatchObject([{ kind: "annotateClaim", annotations: { [claimAnnotations.runningMessage]: 'Cannot import DataVolume "root": HTTP 404', [claimAnnotations.podRestarts]: "2" }, event: { type: "Warning", reason: "ImportFailed" } }]);
    // Recorded: the same failure writes nothing more.
    const seen = { [claimAnnotations.podPhase]: "Running", [claimAnnotations.podRestarts]: "2", [claimAnnotations.runningMessage]: 'Cannot import DataVolume "root": HTTP 404' };
    expect(decide({ claim: claim(seen), pod: crashing }).actions).toEqual([]);
    // The pod Failed (restartPolicy exhausted, evicted): the error stays, the pod too (deleting it retries).
    const failed = decide({ claim: claim(), pod: pod("Failed", [{ name: "importer", state: { terminated: { exitCode: 1, message: "no space" } } }]) });
    expect(failed.state).toMatchObject({ state: "error", message: "DataVolume root: import failed: no space" });
    expect(failed.actions.map((a) => a.kind)).toEqual(["annotateClaim"]);
  });

  test("the importer pending on an unbound claim: WaitingForVolumeBinding", () => {
    expect(decide({ claim: claim({ [claimAnnotations.podPhase]: "Pending" }, "Pending"), pod: pod("Pending") }).state).toMatchObject({ state: "binding" });
    expect(decide({ claim: claim({ [claimAnnotations.podPhase]: "Pending" }), pod: pod("Pending") }).state).toMatchObject({ state: "provisioning" });
  });

  test("a claim of that name the VM did not make is used as it is (CDI's adoption): ready, nothing written", () => {
    expect(decide({ claim: { metadata: { name: "root", uid: "x" }, status: { phase: "Bound" } } })).toEqual({ state: { state: "ready" }, actions: [] });
  });

  test("a claim being deleted: wait", () => {
    expect(decide({ claim: { ...claim(), metadata: { ...claim().metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } } })).toMatchObject({ state: { state: "provisioning" }, actions: [] });
  });
});

describe("with CDI: DataVolumes, CDI imports", () => {
  test("none yet: create it, owned by the VM (SuccessfulDataVolumeCreate)", () => {
    const r = decide({ cdi: true });
    expect(r.state).toMatchObject({ state: "provisioning" });
    expect(r.actions).toMatchObject([{ kind: "createDataVolume", dataVolume: { apiVersion: "cdi.kubevirt.io/v1beta1", kind: "DataVolume", metadata: { name: "root", namespace: "ns", ownerReferences: [{ uid: "vm-uid" }] } }, event: { reason: "SuccessfulDataVolumeCreate" } }]);
  });

  test("its phase decides: Succeeded ready, Failed DataVolumeError, others Provisioning with CDI's progress", () => {
    expect(decide({ cdi: true, dv: { status: { phase: "Succeeded" } } }).state).toEqual({ state: "ready" });
    expect(decide({ cdi: true, dv: { status: { phase: "WaitForFirstConsumer" } } }).state).toEqual({ state: "ready" });
    expect(decide({ cdi: true, dv: { status: { phase: "Failed" } } }).state).toMatchObject({ state: "error", message: "DataVolume root failed to import disk image" });
    expect(decide({ cdi: true, dv: { status: { phase: "ImportInProgress", conditions: [{ type: "Running", status: "False", reason: "Error", message: "404" }] } } }).state).toMatchObject({ state: "error" });
    expect(decide({ cdi: true, dv: { status: { phase: "ImportInProgress", progress: "45.21%" } } }).state).toEqual({ state: "provisioning", reason: "ImportInProgress", message: "DataVolume root: ImportInProgress, 45.21%" });
    expect(decide({ cdi: true, dv: { status: { phase: "Succeeded" } } }).actions).toEqual([]);
  });
});

test("a VM without templates is ready", () => {
  expect(decideDataVolumes({ vm: { ...vm, spec: { ...vm.spec, dataVolumeTemplates: [] } }, cdi: false, claim: () => undefined, importer: () => undefined, dataVolume: () => undefined, importerOptions: { image: "x" } })).toEqual({ state: { state: "ready" }, actions: [] });
});
