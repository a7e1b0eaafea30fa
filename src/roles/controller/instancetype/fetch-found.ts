/**
 * What the admission webhook knows of a VM's instancetype and preference:
 * read from the API server when the VM comes in (GETs, as KubeVirt's VM
 * admitter does: no cache that could lag behind an instancetype created a
 * moment before the VM), the objects it names and the ControllerRevisions
 * its matchers or status name. A GET that fails for another reason than
 * NotFound leaves that one missing and says why in `warnings`.
 */
import { instancetypeKindOf, isNamespacedKind, preferenceKindOf } from "../../../api/instancetype/matcher.ts";
import { KubeRest, isNotFound, resourcePath } from "../../../kube/rest.ts";
import type { Found } from "./found-source.ts";
import { controllerRevisionResource, instancetypeResources, type AnyKind } from "./resources.ts";
import { namedRevisions } from "./revision-store.ts";
import type { InstancetypeObject, StatusRef } from "./revision.ts";

export interface VmNames {
  metadata: { namespace?: string };
  spec: { instancetype?: { name: string; kind?: string; revisionName?: string }; preference?: { name: string; kind?: string; revisionName?: string } };
  status?: { instancetypeRef?: StatusRef; preferenceRef?: StatusRef; [k: string]: unknown };
}

export type Fetched = { found: Found; warnings: string[] };

export async function fetchFound(rest: KubeRest, vm: VmNames): Promise<Fetched> {
  const ns = vm.metadata.namespace ?? "default";
  const warnings: string[] = [];
  const get = async <T>(path: string): Promise<T | undefined> => {
    try {
      return await rest.get<T>(path);
    } catch (e) {
      if (!isNotFound(e)) warnings.push((e as Error).message);
      return undefined;
    }
  };
  const objects = new Map<string, InstancetypeObject>();
  const wanted: [AnyKind, string][] = [];
  if (vm.spec.instancetype !== undefined) wanted.push([instancetypeKindOf(vm.spec.instancetype), vm.spec.instancetype.name]);
  if (vm.spec.preference !== undefined) wanted.push([preferenceKindOf(vm.spec.preference), vm.spec.preference.name]);
  const keyOf = (kind: AnyKind, name: string) => `${kind}/${name}`;
  for (const [kind, name] of wanted) {
    const obj = await get<InstancetypeObject>(resourcePath(instancetypeResources[kind], isNamespacedKind(kind) ? ns : undefined, name));
    if (obj !== undefined) objects.set(keyOf(kind, name), obj);
  }
  const revisions = new Map<string, NonNullable<ReturnType<Found["revision"]>>>();
  for (const name of namedRevisions(vm)) {
    const rev = await get<NonNullable<ReturnType<Found["revision"]>>>(resourcePath(controllerRevisionResource, ns, name));
    if (rev !== undefined) revisions.set(name, rev);
  }
  return {
    found: { object: (kind, _, name) => objects.get(keyOf(kind, name)), revision: (_, name) => revisions.get(name) },
    warnings,
  };
}
