/** The kinds bunvirt serves, by apiVersion and kind, with their schemas. */
import type * as v from "valibot";
import { instancetypeGroup, virtualMachineClusterInstancetype, virtualMachineInstancetype } from "./instancetype/instancetype.ts";
import { virtualMachineClusterPreference, virtualMachinePreference } from "./instancetype/preference.ts";
import { virtualMachineV1alpha1 } from "./v1alpha1/vm.ts";
import { virtualMachine } from "./v1/vm.ts";
import { virtualMachineInstance } from "./v1/vmi.ts";

export const group = "kubevirt.io";

export type KindKey =
  | "v1/VirtualMachine"
  | "v1/VirtualMachineInstance"
  | "v1alpha1/VirtualMachine"
  | "v1beta1/VirtualMachineInstancetype"
  | "v1beta1/VirtualMachineClusterInstancetype"
  | "v1beta1/VirtualMachinePreference"
  | "v1beta1/VirtualMachineClusterPreference";

export const schemas: Record<KindKey, v.GenericSchema> = {
  "v1/VirtualMachine": virtualMachine,
  "v1/VirtualMachineInstance": virtualMachineInstance,
  "v1alpha1/VirtualMachine": virtualMachineV1alpha1,
  "v1beta1/VirtualMachineInstancetype": virtualMachineInstancetype,
  "v1beta1/VirtualMachineClusterInstancetype": virtualMachineClusterInstancetype,
  "v1beta1/VirtualMachinePreference": virtualMachinePreference,
  "v1beta1/VirtualMachineClusterPreference": virtualMachineClusterPreference,
};

/** The API group of each kind. */
export const groups: Record<KindKey, string> = {
  "v1/VirtualMachine": group,
  "v1/VirtualMachineInstance": group,
  "v1alpha1/VirtualMachine": group,
  "v1beta1/VirtualMachineInstancetype": instancetypeGroup,
  "v1beta1/VirtualMachineClusterInstancetype": instancetypeGroup,
  "v1beta1/VirtualMachinePreference": instancetypeGroup,
  "v1beta1/VirtualMachineClusterPreference": instancetypeGroup,
};

export const kindKeys = Object.keys(schemas) as KindKey[];

/** "group/version kind" of a key, as a user writes apiVersion and kind. */
export const describeKey = (key: KindKey): string => `${groups[key]}/${key.replace("/", " ")}`;

export function kindKey(obj: unknown): KindKey | null {
  if (obj === null || typeof obj !== "object") return null;
  const { apiVersion, kind } = obj as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== "string" || typeof kind !== "string") return null;
  const [g, version] = apiVersion.split("/");
  if (version === undefined) return null;
  const key = `${version}/${kind}`;
  return key in schemas && groups[key as KindKey] === g ? (key as KindKey) : null;
}
