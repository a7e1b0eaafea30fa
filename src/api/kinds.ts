/** The kinds bunvirt serves, by apiVersion and kind, with their schemas. */
import type * as v from "valibot";
import { virtualMachineV1alpha1 } from "./v1alpha1/vm.ts";
import { virtualMachine } from "./v1/vm.ts";
import { virtualMachineInstance } from "./v1/vmi.ts";

export const group = "kubevirt.io";

export type KindKey = "v1/VirtualMachine" | "v1/VirtualMachineInstance" | "v1alpha1/VirtualMachine";

export const schemas: Record<KindKey, v.GenericSchema> = {
  "v1/VirtualMachine": virtualMachine,
  "v1/VirtualMachineInstance": virtualMachineInstance,
  "v1alpha1/VirtualMachine": virtualMachineV1alpha1,
};

export function kindKey(obj: unknown): KindKey | null {
  if (obj === null || typeof obj !== "object") return null;
  const { apiVersion, kind } = obj as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== "string" || typeof kind !== "string") return null;
  const [g, version] = apiVersion.split("/");
  if (g !== group || version === undefined) return null;
  const key = `${version}/${kind}`;
  return key in schemas ? (key as KindKey) : null;
}
