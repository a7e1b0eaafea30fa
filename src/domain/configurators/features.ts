/**
 * ACPI and APIC (on unless disabled); SMM as firmwareFacts decides it (asked
 * for, or EFI Secure Boot); the Hyper-V enlightenments, except under
 * emulation: TCG cannot give the guest a VP index, and they only speed up a
 * guest on KVM.
 */
import type { Configurator } from "../context.ts";
import { smmOf } from "../firmware-facts.ts";
import { el } from "../xml.ts";
import { hypervElement } from "./hyperv.ts";

export const features: Configurator = ({ spec, facts }) => {
  const f = spec.domain.features;
  const smm = smmOf(spec);
  const nodes = [
    f?.acpi?.enabled !== false && el("acpi"),
    f?.apic?.enabled !== false && el("apic"),
    f?.hyperv !== undefined && !facts.emulation && hypervElement(f.hyperv),
    smm && el("smm", { state: "on" }),
  ];
  return { features: [el("features", {}, ...nodes)] };
};
