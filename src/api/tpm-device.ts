/** Whether a VMI has a TPM, decided once for admission and the domain (KubeVirt: pkg/tpm). */
import type { VmiSpec } from "./v1/vmi.ts";

/** `devices.tpm` is set and not `enabled: false`. */
export function hasTpm(spec: VmiSpec): boolean {
  const tpm = spec.domain.devices.tpm;
  return tpm !== undefined && tpm.enabled !== false;
}
