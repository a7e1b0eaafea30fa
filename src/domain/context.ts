/** What every configurator reads, and what it may contribute. */
import type { VmiSpec } from "../api/v1/vmi.ts";
import type { LauncherFacts, VmiIdentity } from "./facts.ts";
import type { XmlNode } from "./xml.ts";

export interface DomainContext {
  vmi: VmiIdentity;
  /** The VMI spec with KubeVirt's defaults applied. */
  spec: VmiSpec;
  facts: LauncherFacts;
}

/** The places in a domain document, in the order libvirt writes them. */
export const slots = [
  "name", "uuid", "metadata", "memory", "currentMemory", "vcpu", "cputune", "os", "features", "cpu", "clock",
  "on_poweroff", "on_reboot", "on_crash",
  // inside <devices>:
  "disks", "controllers", "interfaces", "inputs", "serials", "consoles", "tpm", "rng", "memballoon",
] as const;

export type Slot = (typeof slots)[number];
export const deviceSlots: readonly Slot[] = ["disks", "controllers", "interfaces", "inputs", "serials", "consoles", "tpm", "rng", "memballoon"];

export type Contribution = Partial<Record<Slot, XmlNode[]>>;

/** One concern of the domain: reads the context, contributes elements to slots. */
export type Configurator = (ctx: DomainContext) => Contribution;

/** A VMI that cannot become a domain with the facts at hand. */
export class DomainError extends Error {
  constructor(readonly path: string, message: string) {
    super(`Cannot build domain: ${path}: ${message}`);
  }
}
