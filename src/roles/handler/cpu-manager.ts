/**
 * Whether the node's kubelet runs the static CPU manager policy, which gives
 * a guaranteed pod with whole CPUs CPUs of its own: the kubelet records its
 * policy in `<kubelet root>/cpu_manager_state` (JSON, `policyName`). The
 * handler labels its Node `cpumanager=true|false` with it, as KubeVirt's
 * handler does, and VMIs with dedicatedCpuPlacement are placed only where
 * it is true. Missing, unreadable or odd: false.
 */
import { join } from "node:path";

/** The state file is a few hundred bytes; anything larger is not the kubelet's. */
const maxStateBytes = 64 * 1024;

export function staticPolicyOf(text: string): boolean {
  try {
    const state = JSON.parse(text) as { policyName?: unknown } | null;
    return state !== null && typeof state === "object" && state.policyName === "static";
  } catch {
    return false;
  }
}

export async function kubeletCpuManagerStatic(kubeletRoot: string): Promise<boolean> {
  try {
    const file = Bun.file(join(kubeletRoot, "cpu_manager_state"));
    if (file.size > maxStateBytes) return false;
    return staticPolicyOf(await file.text());
  } catch {
    return false;
  }
}
