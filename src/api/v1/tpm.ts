/** kubevirt.io/v1 TPMDevice: a software TPM 2.0 (swtpm, run by the launcher's libvirtd). */
import * as v from "valibot";
import { doc } from "./primitives.ts";

export const tpm = v.strictObject({
  enabled: v.optional(doc(v.boolean(), "Give the guest the TPM (true) or none (false; KubeVirt uses it to turn off a TPM a preference asks for). Default: true.")),
  persistent: v.optional(doc(v.boolean(), "In KubeVirt: keep the TPM's state (its keys, sealed secrets) across restarts of the VM. Refused when true: bunvirt keeps no state across restarts, so what a guest sealed in the TPM (BitLocker, LUKS keys) would be lost at the next start. The state lives as long as the VMI: it survives the guest's reboots. Default: false.")),
});
