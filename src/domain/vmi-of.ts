/** The VMI a validated manifest stands for: a VMI is itself, a VM its template (expanded with its instancetype and preference), a v1alpha1 VM its v1 form's template. */
import { alphaToV1 } from "../api/convert/v1alpha1.ts";
import type { VirtualMachine } from "../api/v1/vm.ts";
import type { VmiSpec } from "../api/v1/vmi.ts";
import type { VmLike } from "../api/validate.ts";
import type { VmiIdentity } from "./facts.ts";

export interface VmiOf {
  identity: VmiIdentity;
  spec: VmiSpec;
}

export function vmiOf(valid: VmLike): VmiOf {
  const meta = valid.object.metadata;
  const identity: VmiIdentity = {
    namespace: meta.namespace ?? "default",
    name: meta.name ?? meta.generateName ?? "vmi",
    ...(meta.uid !== undefined ? { uid: meta.uid } : {}),
  };
  switch (valid.key) {
    case "v1/VirtualMachineInstance":
      return { identity, spec: valid.object.spec };
    case "v1/VirtualMachine":
      return { identity, spec: (valid.expanded ?? valid.object.spec.template).spec };
    case "v1alpha1/VirtualMachine":
      return { identity, spec: (alphaToV1(valid.object) as VirtualMachine).spec.template.spec };
  }
}
