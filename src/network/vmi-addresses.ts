/**
 * The addresses a VMI's interface reports in its status (KubeVirt's
 * `status.interfaces[].ipAddress`/`ipAddresses`, the `IP` column of
 * `kubectl get vmi`): where the guest is reached on the pod network, plain
 * addresses without a prefix length. Masquerade: the pod's IPs (the guest's
 * own 10.0.2.2 is private to the pod); bridge: the pod's IPs, which the
 * guest took over. Pure.
 */
import type { BindingResult } from "./binding.ts";

export function vmiAddresses(result: Pick<BindingResult, "podAddresses">): string[] {
  return result.podAddresses.map((a) => a.split("/")[0]!);
}
