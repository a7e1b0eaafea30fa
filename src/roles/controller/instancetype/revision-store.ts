/**
 * The ControllerRevisions the VM controller reads and writes, with a copy of
 * each kept per VM: a revision's name carries the object's uid and
 * generation and its data never changes, so it is read from the API server
 * once (a GET when a VM's status names one this replica has not seen) and
 * forgotten with the VM. Storing one that exists already is fine when it
 * holds the same object (KubeVirt's storeControllerRevision), else an error.
 */
import { isConflict, isNotFound, KubeRest, resourcePath } from "../../../kube/rest.ts";
import type { Found } from "./found-source.ts";
import { controllerRevisionResource } from "./resources.ts";
import { sameRevisionData, type ControllerRevision, type StatusRef } from "./revision.ts";

type Revision = NonNullable<ReturnType<Found["revision"]>>;

interface Named {
  metadata: { name?: string; namespace?: string };
  spec: { instancetype?: { revisionName?: string }; preference?: { revisionName?: string } };
  status?: { instancetypeRef?: StatusRef; preferenceRef?: StatusRef; [k: string]: unknown };
}

/** The revisions a VM names: its matchers' revisionName and its status refs. */
export function namedRevisions(vm: Named): string[] {
  const names = [vm.spec.instancetype?.revisionName, vm.spec.preference?.revisionName, vm.status?.instancetypeRef?.controllerRevisionRef?.name, vm.status?.preferenceRef?.controllerRevisionRef?.name];
  return [...new Set(names.filter((n): n is string => n !== undefined && n !== ""))];
}

export class RevisionStore {
  /** VM key → revision name → revision. */
  readonly #byVm = new Map<string, Map<string, Revision>>();

  constructor(private readonly rest: KubeRest) {}

  #memo(vmKey: string): Map<string, Revision> {
    let m = this.#byVm.get(vmKey);
    if (m === undefined) this.#byVm.set(vmKey, (m = new Map()));
    return m;
  }

  /** Reads the revisions the VM names that this replica has no copy of; one that does not exist stays missing. */
  async fetchNamed(vmKey: string, vm: Named): Promise<void> {
    const memo = this.#memo(vmKey);
    const ns = vm.metadata.namespace ?? "default";
    for (const name of namedRevisions(vm)) {
      if (memo.has(name)) continue;
      try {
        memo.set(name, await this.rest.get<Revision>(resourcePath(controllerRevisionResource, ns, name)));
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  /** Creates `rev`, or accepts the one of that name holding the same object. */
  async store(vmKey: string, rev: ControllerRevision): Promise<void> {
    const { namespace, name } = rev.metadata;
    try {
      this.#memo(vmKey).set(name, await this.rest.create<Revision>(resourcePath(controllerRevisionResource, namespace), rev));
    } catch (e) {
      if (!isConflict(e)) throw new Error(`Cannot store the ControllerRevision "${namespace}/${name}": ${(e as Error).message}`, { cause: e });
      const existing = await this.rest.get<Revision>(resourcePath(controllerRevisionResource, namespace, name));
      if (!sameRevisionData(rev, existing)) throw new Error(`Cannot store the ControllerRevision "${namespace}/${name}": one of that name exists with other data`);
      this.#memo(vmKey).set(name, existing);
    }
  }

  /** The revision of that name among the VM's. */
  get(vmKey: string, name: string): Revision | undefined {
    return this.#byVm.get(vmKey)?.get(name);
  }

  forget(vmKey: string): void {
    this.#byVm.delete(vmKey);
  }
}
