/**
 * devices.tpm: a TPM whose state is kept across restarts (persistent) is
 * refused, since bunvirt keeps no VM state beyond its VMI; a guest that
 * sealed its disk keys in the TPM would not find them at the next start.
 */
import { joinPath, type Problem } from "../problem.ts";
import { hasTpm } from "../tpm-device.ts";
import type { VmiSpec } from "../v1/vmi.ts";

export function checkTpm(spec: VmiSpec, at: string): Problem[] {
  if (!hasTpm(spec) || spec.domain.devices.tpm?.persistent !== true) return [];
  return [{
    path: joinPath(at, "domain.devices.tpm.persistent"),
    rule: "must not be true: bunvirt keeps no state across restarts, so the TPM's keys and sealed secrets would be lost at every restart; remove it (the state then lives as long as the VMI, across the guest's reboots)",
  }];
}
