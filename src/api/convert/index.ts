/** Conversion between the served versions, as the conversion webhook does it. */
import type { Valid } from "../validate.ts";
import { alphaToV1, v1ToAlpha } from "./v1alpha1.ts";

export type TargetVersion = "v1" | "v1alpha1";

export function convert(valid: Valid, to: TargetVersion): unknown {
  switch (valid.key) {
    case "v1alpha1/VirtualMachine":
      return to === "v1" ? alphaToV1(valid.object) : valid.object;
    case "v1/VirtualMachine":
      return to === "v1alpha1" ? v1ToAlpha(valid.object) : valid.object;
    case "v1/VirtualMachineInstance":
      if (to === "v1") return valid.object;
      throw new Error("Cannot convert: VirtualMachineInstance is served at v1 only; v1alpha1 has no such kind");
    default:
      // Instancetypes and preferences have one version (instancetype.kubevirt.io/v1beta1): they pass unchanged.
      return valid.object;
  }
}
