/**
 * Offline lookups: the instancetypes and preferences among the documents a
 * user gave (`bunvirt validate`, `domain-xml`, `run` with several documents
 * or files), so a VM and its instancetype can be tried without a cluster.
 * A namespaced kind is found in the VM's namespace ("default" when unset).
 */
import type { Valid } from "../validate.ts";
import type { InstancetypeSpec } from "./instancetype.ts";
import { isNamespacedKind, type InstancetypeKind, type PreferenceKind } from "./matcher.ts";
import type { PreferenceSpec } from "./preference.ts";
import type { Lookup, SpecSource, Wanted } from "./source.ts";

const keyOf = (kind: InstancetypeKind | PreferenceKind, name: string, namespace: string) => `${kind}/${isNamespacedKind(kind) ? namespace : ""}/${name}`;

export function documentSource(valids: readonly Valid[]): SpecSource {
  const instancetypes = new Map<string, InstancetypeSpec>();
  const preferences = new Map<string, PreferenceSpec>();
  for (const { key, object } of valids) {
    const at = (kind: InstancetypeKind | PreferenceKind) => keyOf(kind, object.metadata.name ?? "", object.metadata.namespace ?? "default");
    if (key === "v1beta1/VirtualMachineInstancetype" || key === "v1beta1/VirtualMachineClusterInstancetype") instancetypes.set(at(object.kind), object.spec);
    if (key === "v1beta1/VirtualMachinePreference" || key === "v1beta1/VirtualMachineClusterPreference") preferences.set(at(object.kind), object.spec);
  }
  function find<T, K extends InstancetypeKind | PreferenceKind>(map: Map<string, T>, w: Wanted<K>): Lookup<T> {
    const spec = map.get(keyOf(w.kind, w.name, w.namespace));
    if (spec !== undefined) return { spec };
    const where = isNamespacedKind(w.kind) ? ` in namespace "${w.namespace}"` : "";
    return { problem: `${w.kind} "${w.name}"${where} is not in the input; give it as another document of the file or in another file` };
  }
  return { instancetype: (w) => find(instancetypes, w), preference: (w) => find(preferences, w) };
}
