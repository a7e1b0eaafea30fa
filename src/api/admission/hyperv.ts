/**
 * Hyper-V enlightenments: none may be on while what it needs is set off
 * (KubeVirt's dependency rules); a vendor id that is on names one; the
 * TLB flush's direct and extended modes are refused: the launcher's libvirt
 * (9.0, Debian 12) has neither (they came in later releases).
 */
import { hypervState, walkHypervNeeds } from "../hyperv-dependencies.ts";
import { joinPath, type Problem } from "../problem.ts";
import type { VmiSpec } from "../v1/vmi.ts";

export function checkHyperv(spec: VmiSpec, at: string): Problem[] {
  const hyperv = spec.domain.features?.hyperv;
  if (hyperv === undefined) return [];
  const here = joinPath(at, "domain.features.hyperv");
  const out: Problem[] = walkHypervNeeds(hyperv).conflicts.map(({ feature, needs }) => ({
    path: joinPath(here, feature),
    rule: `${feature} needs ${needs}, which is turned off (${joinPath(here, needs)}.enabled: false); turn ${needs} on or ${feature} off`,
  }));
  if (hypervState(hyperv, "vendorid") === "on" && hyperv.vendorid?.vendorid === undefined) {
    out.push({ path: joinPath(joinPath(here, "vendorid"), "vendorid"), rule: "a vendor id that is on needs its value (1 to 12 characters, such as KVMKVMKVM)" });
  }
  for (const mode of ["direct", "extended"] as const) {
    if (hyperv.tlbflush?.[mode] !== undefined) {
      out.push({
        path: joinPath(joinPath(here, "tlbflush"), mode),
        rule: `the launcher's libvirt (9.0, Debian 12) cannot set the TLB flush's ${mode} mode; leave ${mode} out (tlbflush itself works)`,
      });
    }
  }
  return out;
}
