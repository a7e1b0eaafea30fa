/** ACPI and APIC (on unless disabled); SMM as firmwareFacts decides it (asked for, or EFI Secure Boot). */
import type { Configurator } from "../context.ts";
import { smmOf } from "../firmware-facts.ts";
import { el } from "../xml.ts";

export const features: Configurator = ({ spec }) => {
  const f = spec.domain.features;
  const smm = smmOf(spec);
  const nodes = [
    f?.acpi?.enabled !== false && el("acpi"),
    f?.apic?.enabled !== false && el("apic"),
    smm && el("smm", { state: "on" }),
  ];
  return { features: [el("features", {}, ...nodes)] };
};
