/**
 * The controller's writes to the API server: VMIs and launcher pods created
 * and deleted, status as a merge patch of what changed (through the status
 * subresource where the resource has one; a VMI has none, as in KubeVirt, so
 * its labels and status go in one write), labels, finalizers by JSON Patch
 * guarded by a `test` of the list the decision was made on (a concurrent
 * change fails the patch and the key is retried), and Events. Nothing is
 * sent for a patch that changes nothing: it would still cost a write.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { KubeObject } from "../../kube/informer.ts";
import { isNotFound, KubeError, KubeRest, resourcePath } from "../../kube/rest.ts";
import { objectOf, type Logger } from "../../log/logger.ts";
import { mergePatch } from "./merge-patch.ts";
import type { KubeEvent } from "./reconcile-vm.ts";

export const vmResource = { group: "kubevirt.io", version: "v1", plural: "virtualmachines", statusSubresource: true } as const;
/** No status subresource (src/api/crd/crds.ts): status goes through the object. */
export const vmiResource = { group: "kubevirt.io", version: "v1", plural: "virtualmachineinstances", statusSubresource: false } as const;
export const podResource = { group: "", version: "v1", plural: "pods", statusSubresource: true } as const;
export const pdbResource = { group: "policy", version: "v1", plural: "poddisruptionbudgets", statusSubresource: true } as const;
const eventResource = { group: "", version: "v1", plural: "events", statusSubresource: false } as const;

type Resource = { group: string; version: string; plural: string; statusSubresource: boolean };

export const eventSource = "bunvirt-controller";

/** Where `r`'s status is written: its status subresource, or the object itself when it has none (a VMI). */
export function statusPath(r: Resource, namespace: string, name: string): string {
  return resourcePath(r, namespace, name) + (r.statusSubresource ? "/status" : "");
}

function nameOf(obj: KubeObject): { namespace: string; name: string } {
  const { namespace, name } = obj.metadata;
  if (namespace === undefined || name === undefined) throw new Error(`Cannot write ${obj.kind ?? "an object"}: metadata.namespace and metadata.name must be set`);
  return { namespace, name };
}

export class ControllerWrites {
  readonly rest: KubeRest;

  constructor(rest: KubeRest, private readonly log: Logger) {
    this.rest = rest;
  }

  create<T>(r: Resource, namespace: string, body: unknown): Promise<T> {
    return this.rest.create<T>(resourcePath(r, namespace), body);
  }

  createPod(pod: V1Pod): Promise<V1Pod> {
    return this.create<V1Pod>(podResource, pod.metadata?.namespace ?? "default", pod);
  }

  /** Deletes when the uid still matches; an object already gone counts as deleted. */
  async delete(r: Resource, namespace: string, name: string, uid?: string): Promise<void> {
    try {
      await this.rest.delete(resourcePath(r, namespace, name), uid === undefined ? undefined : { preconditions: { uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** Writes `status` when it differs from the object's. Returns whether it wrote. */
  patchStatus(r: Resource, obj: KubeObject, status: object): Promise<boolean> {
    return this.patchObject(r, obj, { status });
  }

  async patchLabels(r: Resource, obj: KubeObject, labels: Record<string, string>): Promise<void> {
    await this.patchObject(r, obj, { labels });
  }

  /**
   * Writes the labels and the status that differ from the object's: one
   * merge patch when the resource has no status subresource, else one on
   * the object and one on its status. Returns whether it wrote.
   */
  async patchObject(r: Resource, obj: KubeObject, next: { labels?: Record<string, string>; status?: object }): Promise<boolean> {
    const { namespace, name } = nameOf(obj);
    const labels = next.labels === undefined ? null : mergePatch({ labels: obj.metadata.labels ?? {} }, { labels: next.labels });
    const status = next.status === undefined ? null : mergePatch({ status: obj.status ?? {} }, { status: next.status });
    const path = resourcePath(r, namespace, name);
    if (!r.statusSubresource) {
      if (labels === null && status === null) return false;
      await this.rest.patch(path, "merge", { ...(labels !== null ? { metadata: labels } : {}), ...status });
      return true;
    }
    if (labels !== null) await this.rest.patch(path, "merge", { metadata: labels });
    if (status !== null) await this.rest.patch(statusPath(r, namespace, name), "merge", status);
    return labels !== null || status !== null;
  }

  /** Sets the finalizers to `next`, guarded by a test of what they were. Returns the patched object. */
  async setFinalizers<T>(r: Resource, obj: KubeObject, next: string[]): Promise<T> {
    const { namespace, name } = nameOf(obj);
    const current = obj.metadata.finalizers as string[] | undefined;
    const ops = current === undefined
      ? [{ op: "test", path: "/metadata/resourceVersion", value: obj.metadata.resourceVersion }, { op: "add", path: "/metadata/finalizers", value: next }]
      : [{ op: "test", path: "/metadata/finalizers", value: current }, { op: "replace", path: "/metadata/finalizers", value: next }];
    try {
      return await this.rest.patch<T>(resourcePath(r, namespace, name), "json", ops);
    } catch (e) {
      // A failed `test` is a 422: someone changed the list since the cache showed it.
      if (e instanceof KubeError && e.code === 422) {
        throw new KubeError(`Cannot set the finalizers of ${obj.kind ?? "the object"} "${namespace}/${name}" to ${JSON.stringify(next)}: they are no longer ${JSON.stringify(current ?? [])}`, 409);
      }
      throw e;
    }
  }

  addFinalizer<T>(r: Resource, obj: KubeObject, finalizer: string): Promise<T> {
    const current = (obj.metadata.finalizers as string[] | undefined) ?? [];
    return this.setFinalizers<T>(r, obj, [...current, finalizer]);
  }

  removeFinalizers<T>(r: Resource, obj: KubeObject, finalizers: readonly string[]): Promise<T> {
    const current = (obj.metadata.finalizers as string[] | undefined) ?? [];
    return this.setFinalizers<T>(r, obj, current.filter((f) => !finalizers.includes(f)));
  }

  /**
   * Records an Event on the object in the background (as client-go's
   * recorder does: the reconcile does not wait for it); a failure is logged,
   * never fails the reconcile.
   */
  event(obj: KubeObject, ev: KubeEvent): void {
    void this.#recordEvent(obj, ev);
  }

  async #recordEvent(obj: KubeObject, ev: KubeEvent): Promise<void> {
    try {
      const { namespace, name } = nameOf(obj);
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
      await this.rest.create(resourcePath(eventResource, namespace), {
        apiVersion: "v1",
        kind: "Event",
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name, namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
        type: ev.type,
        reason: ev.reason,
        message: ev.message,
        source: { component: eventSource },
        reportingComponent: eventSource,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (e) {
      this.log.warn(`Cannot record the event ${ev.reason} on ${obj.kind ?? "?"} "${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}": ${(e as Error).message}`, objectOf(obj.kind ?? "?", obj.metadata));
    }
  }
}
