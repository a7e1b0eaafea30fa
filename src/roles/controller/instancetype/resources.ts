/** The REST resources of instancetypes, preferences and the ControllerRevisions that keep a VM's copy of them. */
import { instancetypeGroup, instancetypeVersion } from "../../../api/instancetype/instancetype.ts";
import type { InstancetypeKind, PreferenceKind } from "../../../api/instancetype/matcher.ts";

export type AnyKind = InstancetypeKind | PreferenceKind;

const resource = (plural: string) => ({ group: instancetypeGroup, version: instancetypeVersion, plural, statusSubresource: false }) as const;

export const instancetypeResources: Record<AnyKind, { group: string; version: string; plural: string; statusSubresource: false }> = {
  VirtualMachineInstancetype: resource("virtualmachineinstancetypes"),
  VirtualMachineClusterInstancetype: resource("virtualmachineclusterinstancetypes"),
  VirtualMachinePreference: resource("virtualmachinepreferences"),
  VirtualMachineClusterPreference: resource("virtualmachineclusterpreferences"),
};

export const controllerRevisionResource = { group: "apps", version: "v1", plural: "controllerrevisions", statusSubresource: false } as const;
