/**
 * The handler's mark on its Node (KubeVirt's virt-handler heartbeat): the
 * `kubevirt.io/schedulable=true` label the launcher pods' nodeSelector asks
 * for, and the `kubevirt.io/heartbeat` annotation with the time, as one
 * merge patch, with `cpumanager=true|false` (the kubelet's static CPU
 * manager: where dedicated CPUs can be had). Stopping takes the schedulable
 * label away, so no new VM is placed on a node without a handler.
 */
import { cpuManagerNodeLabel, schedulableNodeLabel } from "../controller/launcher-pod.ts";
import { kubeTime } from "../controller/vm-status.ts";

export const heartbeatAnnotation = "kubevirt.io/heartbeat";
/** Seconds between heartbeats (KubeVirt's default). */
export const heartbeatSeconds = 60;

/** `extra`: more `kubevirt.io/` annotations kept on the Node with each heartbeat (the console's address). */
export function heartbeatPatch(now: Date, schedulable: boolean, extra: Record<string, string> = {}, cpuManager = false): { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } {
  return {
    metadata: {
      labels: { [schedulableNodeLabel]: schedulable ? "true" : "false", [cpuManagerNodeLabel]: cpuManager ? "true" : "false" },
      annotations: { ...extra, [heartbeatAnnotation]: kubeTime(now) },
    },
  };
}
