/**
 * The admission webhooks' decisions, pure: AdmissionRequest in,
 * AdmissionResponse out.
 * - validate: the same `validate` that `bunvirt validate` runs; a denial
 *   names each field path and rule (422, one cause per problem). A VMI's
 *   spec cannot change after creation (KubeVirt's rule). Deletes, status
 *   writes and objects being deleted pass.
 * - mutate: KubeVirt's defaults as a JSON Patch — a VM gets the default
 *   machine type, and on create a firmware UUID and serial and the VM
 *   controller's finalizer (set here, it costs the controller no write); a
 *   VMI gets applyVmiDefaults and the foreground finalizer on create. A VM
 *   that names an instancetype or preference is checked as expanded with
 *   them (instancetype/admit-vm.ts) and takes its preference's machine
 *   type before the default. v1alpha1 objects
 *   are not defaulted here: register the webhook for v1 with matchPolicy
 *   Equivalent and the API server converts them first.
 */
import * as v from "valibot";
import { checkHostDisksAllowed } from "../../api/admission/host-disk.ts";
import { applyVmiDefaults, defaultMachineType } from "../../api/defaults.ts";
import { kindKey } from "../../api/kinds.ts";
import { virtualMachine } from "../../api/v1/vm.ts";
import { admitVmWithInstancetypes, preferredMachineType } from "./instancetype/admit-vm.ts";
import type { Fetched, VmNames } from "./instancetype/fetch-found.ts";
import { problemsText, type Problem } from "../../api/problem.ts";
import { validate } from "../../api/validate.ts";
import type { VirtualMachine } from "../../api/v1/vm.ts";
import type { VirtualMachineInstance } from "../../api/v1/vmi.ts";
import { vmiFinalizer } from "./reconcile-vmi.ts";
import { vmControllerFinalizer } from "./vmi-from-vm.ts";
import type { AdmissionRequest, AdmissionResponse } from "./review-schemas.ts";

const allow = (uid: string): AdmissionResponse => ({ uid, allowed: true });

export function deny(uid: string, problems: Problem[]): AdmissionResponse {
  const message = problemsText(problems);
  return {
    uid,
    allowed: false,
    status: {
      code: 422,
      reason: "Invalid",
      message,
      details: { causes: problems.map((p) => ({ reason: "FieldValueInvalid", field: p.path, message: p.rule })) },
    },
  };
}

function passesUnchecked(req: AdmissionRequest): boolean {
  if (req.operation === "DELETE" || req.operation === "CONNECT") return true;
  if (req.subResource !== undefined && req.subResource !== "") return true;
  const meta = req.object?.metadata as { deletionTimestamp?: unknown } | undefined;
  return typeof meta?.deletionTimestamp === "string";
}

/** Nothing found: every instancetype and preference a VM names is missing. */
export const nothingFetched: Fetched = { found: { object: () => undefined, revision: () => undefined }, warnings: [] };

/** A v1 VM that names an instancetype or a preference: what `fetched` must be read for (fetch-found.ts). */
export function namesInstancetypes(obj: unknown): obj is VmNames {
  if (kindKey(obj) !== "v1/VirtualMachine") return false;
  const spec = (obj as { spec?: { instancetype?: unknown; preference?: unknown } }).spec;
  return spec?.instancetype !== undefined || spec?.preference !== undefined;
}

/** The cluster's settings admission applies beyond the manifest's own rules. */
export interface AdmissionPolicy {
  /** Node directories hostDisk volumes may use (`--host-disk-dirs`); none: every hostDisk is refused. */
  hostDiskDirs?: readonly string[];
}

/**
 * `fetched`: what the cluster has of the instancetype and preference the VM
 * names (namesInstancetypes); `policy`: the cluster's settings (hostDisk).
 */
export function validateRequest(req: AdmissionRequest, fetched: Fetched = nothingFetched, policy: AdmissionPolicy = {}): AdmissionResponse {
  if (passesUnchecked(req)) return allow(req.uid);
  if (req.object === undefined || req.object === null) return deny(req.uid, [{ path: "request.object", rule: "is required for a CREATE or UPDATE" }]);
  const dirs = policy.hostDiskDirs ?? [];
  if (namesInstancetypes(req.object)) {
    const admitted = admitVmWithInstancetypes(req.object, fetched);
    if (!admitted.ok) return deny(req.uid, admitted.problems);
    const template = (req.object as unknown as { spec: { template: { spec: Parameters<typeof checkHostDisksAllowed>[0] } } }).spec.template.spec;
    const refusedDisks = checkHostDisksAllowed(template, "spec.template.spec", dirs);
    if (refusedDisks.length > 0) return deny(req.uid, refusedDisks);
    return admitted.warnings.length > 0 ? { ...allow(req.uid), warnings: admitted.warnings } : allow(req.uid);
  }
  const result = validate(req.object);
  if (!result.ok) return deny(req.uid, result.problems);
  const refused = result.valid.key === "v1/VirtualMachine"
    ? checkHostDisksAllowed(result.valid.object.spec.template.spec, "spec.template.spec", dirs)
    : result.valid.key === "v1/VirtualMachineInstance" ? checkHostDisksAllowed(result.valid.object.spec, "spec", dirs) : [];
  if (refused.length > 0) return deny(req.uid, refused);
  if (req.operation === "UPDATE" && result.valid.key === "v1/VirtualMachineInstance") {
    const old = req.oldObject as { spec?: unknown } | null | undefined;
    if (old?.spec !== undefined && !Bun.deepEquals(old.spec, result.valid.object.spec)) {
      return deny(req.uid, [{ path: "spec", rule: "cannot change after the VirtualMachineInstance is created; change the VirtualMachine's template and restart it" }]);
    }
  }
  return allow(req.uid);
}

export type JsonPatchOp = { op: "add" | "replace"; path: string; value: unknown };

export interface MutateOptions {
  /** A fresh random UUID (the VM's firmware UUID and serial on create). */
  newUuid: () => string;
}

function patched(uid: string, ops: JsonPatchOp[]): AdmissionResponse {
  if (ops.length === 0) return allow(uid);
  return { uid, allowed: true, patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(ops)).toString("base64") };
}

export function mutateRequest(req: AdmissionRequest, opts: MutateOptions, fetched: Fetched = nothingFetched): AdmissionResponse {
  if (passesUnchecked(req) || req.object === undefined || req.object === null) return allow(req.uid);
  if (namesInstancetypes(req.object)) {
    // Checked against its instancetype by the validating webhook; defaulted here from its schema alone.
    const parsed = v.safeParse(virtualMachine, req.object);
    if (!parsed.success) return allow(req.uid);
    const create = req.operation === "CREATE";
    const finalizer = create ? withFinalizer(parsed.output.metadata, vmControllerFinalizer) : [];
    return patched(req.uid, [...mutateVm(parsed.output, create, opts, preferredMachineType(parsed.output, fetched)), ...finalizer]);
  }
  const result = validate(req.object);
  // The validating webhook refuses it with the full list of problems.
  if (!result.ok) return allow(req.uid);
  switch (result.valid.key) {
    case "v1/VirtualMachine": {
      const create = req.operation === "CREATE";
      const finalizer = create ? withFinalizer(result.valid.object.metadata, vmControllerFinalizer) : [];
      return patched(req.uid, [...mutateVm(result.valid.object, create, opts), ...finalizer]);
    }
    case "v1/VirtualMachineInstance":
      return req.operation === "CREATE" ? patched(req.uid, mutateVmi(result.valid.object)) : allow(req.uid);
    case "v1alpha1/VirtualMachine":
    case "v1beta1/VirtualMachineInstancetype":
    case "v1beta1/VirtualMachineClusterInstancetype":
    case "v1beta1/VirtualMachinePreference":
    case "v1beta1/VirtualMachineClusterPreference":
      return allow(req.uid);
  }
}

/** `preferred`: the machine type of the VM's preference, which comes before the default (KubeVirt's instancetype mutator runs first). */
function mutateVm(vm: VirtualMachine, create: boolean, opts: MutateOptions, preferred?: string): JsonPatchOp[] {
  const spec = structuredClone(vm.spec);
  const domain = spec.template.spec.domain;
  domain.machine = { ...domain.machine, type: domain.machine?.type ?? preferred ?? defaultMachineType };
  if (create) {
    const fw = domain.firmware ?? {};
    domain.firmware = { ...fw, uuid: fw.uuid ?? opts.newUuid(), serial: fw.serial ?? opts.newUuid() };
  }
  return Bun.deepEquals(spec, vm.spec) ? [] : [{ op: "replace", path: "/spec", value: spec }];
}

function mutateVmi(vmi: VirtualMachineInstance): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  const spec = applyVmiDefaults(vmi.spec);
  if (!Bun.deepEquals(spec, vmi.spec)) ops.push({ op: "replace", path: "/spec", value: spec });
  return [...ops, ...withFinalizer(vmi.metadata, vmiFinalizer)];
}

/** The JSON Patch that adds `finalizer` to the object's list, when it is not there. */
function withFinalizer(metadata: object, finalizer: string): JsonPatchOp[] {
  const finalizers = (metadata as { finalizers?: string[] }).finalizers;
  if (finalizers === undefined) return [{ op: "add", path: "/metadata/finalizers", value: [finalizer] }];
  return finalizers.includes(finalizer) ? [] : [{ op: "add", path: "/metadata/finalizers/-", value: finalizer }];
}
