/**
 * The domain builder: applies KubeVirt's defaults, runs each configurator
 * in order and places what it contributes where libvirt expects it.
 */
import { applyVmiDefaults } from "../api/defaults.ts";
import type { VmiSpec } from "../api/v1/vmi.ts";
import { clock, lifecycle } from "./configurators/clock.ts";
import { serialConsole } from "./configurators/console.ts";
import { cpu } from "./configurators/cpu.ts";
import { cputune } from "./configurators/cputune.ts";
import { memballoon, rng } from "./configurators/devices-misc.ts";
import { disks } from "./configurators/disks.ts";
import { features } from "./configurators/features.ts";
import { firmware } from "./configurators/firmware.ts";
import { identity } from "./configurators/identity.ts";
import { inputs } from "./configurators/inputs.ts";
import { interfaces } from "./configurators/interfaces.ts";
import { memory } from "./configurators/memory.ts";
import { tpm } from "./configurators/tpm.ts";
import { deviceSlots, slots, type Configurator, type Slot } from "./context.ts";
import type { LauncherFacts, VmiIdentity } from "./facts.ts";
import { el, renderXml, type XmlNode } from "./xml.ts";

export const configurators: readonly Configurator[] = [
  identity, memory, cpu, cputune, firmware, features, clock, lifecycle,
  disks, inputs, interfaces, serialConsole, tpm, rng, memballoon,
];

export function buildDomain(vmi: VmiIdentity, spec: VmiSpec, facts: LauncherFacts): XmlNode {
  const ctx = { vmi, spec: applyVmiDefaults(spec), facts };
  const placed = new Map<Slot, XmlNode[]>();
  for (const configure of configurators) {
    for (const [slot, nodes] of Object.entries(configure(ctx)) as [Slot, XmlNode[]][]) {
      placed.set(slot, [...(placed.get(slot) ?? []), ...nodes]);
    }
  }
  const top = slots.filter((s) => !deviceSlots.includes(s)).flatMap((s) => placed.get(s) ?? []);
  const devices = deviceSlots.flatMap((s) => placed.get(s) ?? []);
  return el("domain", { type: facts.emulation ? "qemu" : "kvm" }, ...top, el("devices", {}, ...devices));
}

/** The domain XML for a VMI; throws DomainError naming the field when the facts do not fit. */
export function domainXml(vmi: VmiIdentity, spec: VmiSpec, facts: LauncherFacts): string {
  return renderXml(buildDomain(vmi, spec, facts)) + "\n";
}
