/**
 * The controller's writes to the API server: VMIs and launcher pods created
 * and deleted, status through the status subresource as a merge patch of
 * what changed, labels, finalizers by JSON Patch guarded by a `test` of the
 * list the decision was made on (a concurrent change fails the patch and
 * the key is retried), and Events.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { KubeObject } from "../../kube/informer.ts";
import { isNotFound, KubeError, KubeRest, resourcePath } from "../../kube/rest.ts";
import { objectOf, type Logger } from "../../log/logger.ts";
import { mergePatch } from "./merge-patch.ts";
import type { KubeEvent } from "./reconcile-vm.ts";

export const vmResource = { group: "kubevirt.io", version: "v1", plural: "virtualmachines" } as const;
export const vmiResource = { group: "kubevirt.io", version: "v1", plural: "virtualmachineinstances" } as const;
export const podResource = { group: "", version: "v1", plural: "pods" } as const;
const eventResource = { group: "", version: "v1", plural: "events" } as const;

type Resource = { group: string; version: string; plural: string };

export const eventSource = "bunvirt-controller";

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

  /** Writes `status` through the status subresource when it differs from the object's. Returns whether it wrote. */
  async patchStatus(r: Resource, obj: KubeObject, status: object): Promise<boolean> {
    const { namespace, name } = nameOf(obj);
    const patch = mergePatch({ status: obj.status ?? {} }, { status });
    if (patch === null) return false;
    await this.rest.patch(resourcePath(r, namespace, name) + "/status", "merge", patch);
    return true;
  }

  async patchLabels(r: Resource, obj: KubeObject, labels: Record<string, string>): Promise<void> {
    const { namespace, name } = nameOf(obj);
    const patch = mergePatch({ labels: obj.metadata.labels ?? {} }, { labels });
    if (patch !== null) await this.rest.patch(resourcePath(r, namespace, name), "merge", { metadata: patch });
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
