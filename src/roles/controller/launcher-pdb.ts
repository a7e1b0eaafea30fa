/**
 * The eviction strategy without migration. bunvirt does not migrate VMs, so
 * an eviction (a node drain) can only stop the VM or be refused:
 * - None, LiveMigrateIfPossible: the eviction goes ahead and the VM stops;
 * - LiveMigrate (a VM that cannot migrate, as KubeVirt refuses its eviction)
 *   and External (something outside bunvirt decides): refused, through a
 *   PodDisruptionBudget that keeps the launcher pod (minAvailable 1). It is
 *   owned by the pod, so it goes when the pod goes. Pure.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { VmiSpec } from "../../api/v1/vmi.ts";
import { launcherLabels } from "./launcher-pod.ts";

export interface LauncherPdb {
  apiVersion: "policy/v1";
  kind: "PodDisruptionBudget";
  metadata: { name: string; namespace: string; labels: Record<string, string>; ownerReferences: object[] };
  spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
}

/** Whether an eviction of the VM's launcher pod is refused. */
export function evictionRefused(spec: Pick<VmiSpec, "evictionStrategy">): boolean {
  return spec.evictionStrategy === "LiveMigrate" || spec.evictionStrategy === "External";
}

/** The budget for a created launcher pod, or null when its eviction may stop the VM. */
export function launcherPdb(spec: Pick<VmiSpec, "evictionStrategy">, pod: V1Pod): LauncherPdb | null {
  if (!evictionRefused(spec)) return null;
  const { name, namespace, uid, labels } = pod.metadata ?? {};
  const createdBy = labels?.[launcherLabels.createdBy];
  if (name === undefined || namespace === undefined || uid === undefined || createdBy === undefined) {
    throw new Error(`Cannot build the launcher pod's disruption budget: pod "${String(name)}" has no namespace, uid or ${launcherLabels.createdBy} label`);
  }
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: {
      name,
      namespace,
      labels: { [launcherLabels.createdBy]: createdBy },
      ownerReferences: [{ apiVersion: "v1", kind: "Pod", name, uid }],
    },
    spec: { minAvailable: 1, selector: { matchLabels: { [launcherLabels.createdBy]: createdBy } } },
  };
}
