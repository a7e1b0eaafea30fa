/**
 * The VM controller's caches of the four instancetype.kubevirt.io kinds
 * (list + watch, src/kube/informer.ts), the objects a VM's first expansion
 * is stored from. A change of any of them calls `onChange` with it, so the
 * VMs that wait for it (a missing instancetype) are looked at again.
 */
import { isNamespacedKind } from "../../../api/instancetype/matcher.ts";
import { instancetypeApiVersion } from "../../../api/instancetype/instancetype.ts";
import { Informer, type KubeObject, type PathFetch } from "../../../kube/informer.ts";
import { resourcePath } from "../../../kube/rest.ts";
import { instancetypeResources, type AnyKind } from "./resources.ts";
import type { InstancetypeObject } from "./revision.ts";

type Obj = InstancetypeObject & KubeObject;

export class InstancetypeInformers {
  readonly #informers: Map<AnyKind, Informer<Obj>>;

  constructor(fetch: PathFetch, log: (msg: string) => void, onChange: (obj: InstancetypeObject) => void) {
    const kinds = Object.keys(instancetypeResources) as AnyKind[];
    this.#informers = new Map(kinds.map((kind) => [kind, new Informer<Obj>({
      path: resourcePath(instancetypeResources[kind]), fetch, apiVersion: instancetypeApiVersion, kind, log,
      onAdd: onChange,
      onUpdate: (_, obj) => onChange(obj),
    })]));
  }

  start(): void {
    for (const i of this.#informers.values()) i.start();
  }

  get synced(): Promise<void> {
    return Promise.all([...this.#informers.values()].map((i) => i.synced)).then(() => undefined);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
  }

  get(kind: AnyKind, namespace: string, name: string): InstancetypeObject | undefined {
    return this.#informers.get(kind)?.get(`${isNamespacedKind(kind) ? namespace : ""}/${name}`);
  }
}
