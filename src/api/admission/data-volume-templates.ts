/**
 * A VM's spec.dataVolumeTemplates, with KubeVirt's rules (a name, exactly
 * one of storage and pvc, a source, every template used by a volume of the
 * template) and bunvirt's (one source it imports, a usable URL, a size
 * within bounds, unique names).
 */
import { maxDiskBytes } from "../limits.ts";
import { dns1123SubdomainRule, isDns1123Subdomain, isDns1123Label, dns1123LabelRule } from "../names.ts";
import { joinPath, type Problem } from "../problem.ts";
import { parseQuantity } from "../quantity.ts";
import { parseHttpSourceUrl, parseRegistrySourceUrl } from "../data-volume/source-url.ts";
import { dataVolumeSourceNames, type DataVolumeTemplate } from "../v1/data-volume.ts";
import type { VirtualMachine } from "../v1/vm.ts";

type VmSpec = VirtualMachine["spec"];

export function checkDataVolumeTemplates(spec: VmSpec, at: string, vmNamespace?: string): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  const used = new Set<string>();
  for (const vol of spec.template.spec.volumes ?? []) {
    if (vol.dataVolume !== undefined) used.add(vol.dataVolume.name);
    if (vol.persistentVolumeClaim !== undefined) used.add(vol.persistentVolumeClaim.claimName);
  }
  (spec.dataVolumeTemplates ?? []).forEach((t, i) => {
    const here = joinPath(joinPath(at, "dataVolumeTemplates"), i);
    const name = t.metadata.name;
    const namePath = joinPath(here, "metadata.name");
    if (name === "") out.push({ path: namePath, rule: "is required: the DataVolume's (and its claim's) name" });
    else if (!isDns1123Subdomain(name)) out.push({ path: namePath, rule: `"${name}" ${dns1123SubdomainRule}` });
    else if (seen.has(name)) out.push({ path: namePath, rule: `"${name}" is used by another template; template names must be unique` });
    else if (!used.has(name)) out.push({ path: namePath, rule: `DataVolumeTemplate "${name}" must be referenced in the template's volumes (a dataVolume or persistentVolumeClaim volume naming it)` });
    seen.add(name);
    const ns = t.metadata.namespace;
    if (ns !== undefined && ns !== "" && vmNamespace !== undefined && ns !== vmNamespace) {
      out.push({ path: joinPath(here, "metadata.namespace"), rule: `"${ns}" differs from the VM's namespace "${vmNamespace}"; a template's DataVolume lives in the VM's namespace` });
    }
    out.push(...checkTemplateSpec(t, joinPath(here, "spec")));
  });
  return out;
}

function checkTemplateSpec(t: DataVolumeTemplate, at: string): Problem[] {
  const out: Problem[] = [];
  const { spec } = t;
  const claim = spec.storage ?? spec.pvc;
  if (spec.storage !== undefined && spec.pvc !== undefined) {
    out.push({ path: joinPath(at, "pvc"), rule: "storage and pvc are both set; set exactly one (the claim to import into)" });
  } else if (claim === undefined) {
    out.push({ path: joinPath(at, "storage"), rule: "is required: set storage (or pvc) with resources.requests.storage, the claim to import into" });
  } else {
    const which = spec.storage !== undefined ? "storage" : "pvc";
    const sizePath = joinPath(joinPath(at, which), "resources.requests.storage");
    const size = claim.resources?.requests?.storage;
    const bytes = size === undefined ? null : parseQuantity(size);
    if (size === undefined) out.push({ path: sizePath, rule: "is required: the size of the disk and its claim, such as 10Gi" });
    else if (bytes === null || bytes < 2 ** 20) out.push({ path: sizePath, rule: `"${size}" is less than 1Mi; a disk needs at least one MiB` });
    else if (bytes > maxDiskBytes) out.push({ path: sizePath, rule: `"${size}" is more than 2Pi (${maxDiskBytes} bytes), the largest disk bunvirt creates` });
  }
  if (spec.source === undefined) {
    out.push({ path: joinPath(at, "source"), rule: `is required: set exactly one of ${dataVolumeSourceNames.join(", ")} (bunvirt does not take sourceRef or external population)` });
    return out;
  }
  const src = spec.source;
  const set = dataVolumeSourceNames.filter((k) => src[k] !== undefined);
  if (set.length !== 1) {
    out.push({
      path: joinPath(at, "source"),
      rule: set.length === 0 ? `has no source; set exactly one of ${dataVolumeSourceNames.join(", ")}` : `has ${set.length} sources (${set.join(", ")}); set exactly one`,
    });
    return out;
  }
  const srcAt = joinPath(at, "source");
  if (src.http !== undefined) {
    const parsed = parseHttpSourceUrl(src.http.url);
    if (!parsed.ok) out.push({ path: joinPath(srcAt, "http.url"), rule: parsed.rule });
    for (const key of ["secretRef", "certConfigMap"] as const) {
      const ref = src.http[key];
      if (ref !== undefined && !isDns1123Subdomain(ref)) out.push({ path: joinPath(srcAt, `http.${key}`), rule: `"${ref}" ${dns1123SubdomainRule}` });
    }
  }
  if (src.registry !== undefined) {
    const parsed = parseRegistrySourceUrl(src.registry.url);
    if (!parsed.ok) out.push({ path: joinPath(srcAt, "registry.url"), rule: parsed.rule });
    for (const key of ["secretRef", "certConfigMap"] as const) {
      const ref = src.registry[key];
      if (ref !== undefined && !isDns1123Subdomain(ref)) out.push({ path: joinPath(srcAt, `registry.${key}`), rule: `"${ref}" ${dns1123SubdomainRule}` });
    }
  }
  if (src.pvc !== undefined) {
    if (!isDns1123Label(src.pvc.namespace)) out.push({ path: joinPath(srcAt, "pvc.namespace"), rule: `"${src.pvc.namespace}" ${dns1123LabelRule}` });
    if (!isDns1123Subdomain(src.pvc.name)) out.push({ path: joinPath(srcAt, "pvc.name"), rule: `"${src.pvc.name}" ${dns1123SubdomainRule}` });
  }
  return out;
}
