/** ACPI and APIC (on unless disabled); SMM when asked for or when EFI secure boot needs it. */
import type { Configurator } from "../context.ts";
import { el } from "../xml.ts";

export const features: Configurator = ({ spec }) => {
  const f = spec.domain.features;
  const efi = spec.domain.firmware?.bootloader?.efi;
  const secureBoot = efi !== undefined && (efi.secureBoot ?? true);
  const smm = f?.smm?.enabled ?? secureBoot;
  const nodes = [
    f?.acpi?.enabled !== false && el("acpi"),
    f?.apic?.enabled !== false && el("apic"),
    smm && el("smm", { state: "on" }),
  ];
  return { features: [el("features", {}, ...nodes)] };
};
