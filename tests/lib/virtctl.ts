/**
 * KubeVirt's virtctl v1.6.0, which scripts/test builds first
 * (scripts/cluster/build-virtctl.sh) for the tests that hold bunvirt's client
 * against it. Where it is, or why a comparison skips: scripts/test's reason
 * when it could not build it, else the missing file.
 */
import { existsSync } from "node:fs";

export const virtctlPath = process.env.BUNVIRT_VIRTCTL ?? "/var/cache/bunvirt/virtctl-v1.6.0/virtctl";

/** null when virtctl is there; otherwise the reason, printed once per suite that asks. */
export function virtctlSkip(suite: string): string | null {
  const reason = process.env.BUNVIRT_VIRTCTL_SKIP
    || (existsSync(virtctlPath) ? null : `${virtctlPath} is missing (scripts/cluster/build-virtctl.sh builds it; scripts/test runs it first)`);
  if (reason !== null) console.warn(`${suite}: virtctl comparison skipped: ${reason}`);
  return reason;
}
