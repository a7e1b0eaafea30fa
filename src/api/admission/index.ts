/**
 * Admission: the rules KubeVirt's validating webhook enforces beyond the
 * schema's shape, with the same meaning. Each check returns problems whose
 * paths start at `at` (the VMI spec's own path in the document).
 */
import { dns1123SubdomainRule, isDns1123Label, isDns1123Subdomain } from "../names.ts";
import { joinPath, type Problem } from "../problem.ts";
import type { VirtualMachineInstance, VmiSpec } from "../v1/vmi.ts";
import type { VirtualMachine } from "../v1/vm.ts";
import { checkBootOrder } from "./boot-order.ts";
import { checkClock } from "./clock.ts";
import { checkCloudInit } from "./cloud-init.ts";
import { checkDataVolumeTemplates } from "./data-volume-templates.ts";
import { checkDedicatedCpus } from "./dedicated-cpus.ts";
import { checkDisks } from "./disks.ts";
import { checkFirmware } from "./firmware.ts";
import { checkHostDisks } from "./host-disk.ts";
import { checkHyperv } from "./hyperv.ts";
import { checkInputs } from "./inputs.ts";
import { checkMetadata } from "./metadata.ts";
import { checkNetworks } from "./networks.ts";
import { checkResources } from "./resources.ts";
import { checkTpm } from "./tpm.ts";
import { checkVolumes } from "./volumes.ts";
import { checkXmlChars } from "./xml-chars.ts";

const checks = [checkDisks, checkVolumes, checkHostDisks, checkBootOrder, checkCloudInit, checkResources, checkDedicatedCpus, checkFirmware, checkHyperv, checkClock, checkInputs, checkTpm, checkNetworks];

export function admitVmiSpec(spec: VmiSpec, at: string): Problem[] {
  // Text XML cannot carry is refused first and alone: the other rules quote values in their messages.
  const chars = checkXmlChars(spec, at);
  if (chars.length > 0) return chars;
  const out = checks.flatMap((check) => check(spec, at));
  if (spec.hostname !== undefined && !isDns1123Label(spec.hostname)) {
    out.push({ path: joinPath(at, "hostname"), rule: `"${spec.hostname}" must be a DNS-1123 label` });
  }
  if (spec.priorityClassName !== undefined && !isDns1123Subdomain(spec.priorityClassName)) {
    out.push({ path: joinPath(at, "priorityClassName"), rule: `"${spec.priorityClassName}" ${dns1123SubdomainRule}` });
  }
  return out;
}

/** `namespace` is the VM's, when known: a dataVolumeTemplate may not name another. */
export function admitVmSpec(spec: VirtualMachine["spec"], at: string, namespace?: string): Problem[] {
  const out: Problem[] = [];
  if (spec.runStrategy !== undefined && spec.running !== undefined) {
    out.push({ path: joinPath(at, "running"), rule: "running and runStrategy are mutually exclusive; set only runStrategy (running is deprecated)" });
  }
  if (spec.template.metadata !== undefined) out.push(...checkXmlChars(spec.template.metadata, joinPath(at, "template.metadata")));
  out.push(...admitVmiSpec(spec.template.spec, joinPath(at, "template.spec")));
  out.push(...checkDataVolumeTemplates(spec, at, namespace));
  return out;
}

/** A whole VMI as the launcher's `sync` receives it: its metadata and its spec (paths start at `at`). */
export function admitVmi(vmi: Pick<VirtualMachineInstance, "metadata" | "spec">, at: string): Problem[] {
  return [...checkMetadata(vmi.metadata, joinPath(at, "metadata")), ...admitVmiSpec(vmi.spec, joinPath(at, "spec"))];
}
