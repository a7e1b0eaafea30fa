/** Guest memory: memory.guest, else the memory request, else the limit; in KiB, rounded up to a whole MiB. */
import { quantityBytes } from "../../api/quantity.ts";
import { DomainError, type Configurator } from "../context.ts";
import { el } from "../xml.ts";

const MiB = 1024 * 1024;

export function guestMemoryBytes(domain: { memory?: { guest?: string | number }; resources?: { requests?: { memory?: string | number }; limits?: { memory?: string | number } } }): number | null {
  const q = domain.memory?.guest ?? domain.resources?.requests?.memory ?? domain.resources?.limits?.memory;
  return q === undefined ? null : Math.ceil(quantityBytes(q) / MiB) * MiB;
}

export const memory: Configurator = ({ spec }) => {
  const bytes = guestMemoryBytes(spec.domain);
  if (bytes === null) throw new DomainError("domain.resources.requests.memory", "no guest memory is given");
  const kib = bytes / 1024;
  return {
    memory: [el("memory", { unit: "KiB" }, kib)],
    currentMemory: [el("currentMemory", { unit: "KiB" }, kib)],
  };
};
