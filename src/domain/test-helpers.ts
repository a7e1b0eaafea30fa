/** Shared by the configurator tests: a small VMI spec, facts, and rendering of a contribution. */
import { applyVmiDefaults } from "../api/defaults.ts";
import type { VmiSpec } from "../api/v1/vmi.ts";
import type { Contribution, DomainContext } from "./context.ts";
import type { LauncherFacts } from "./facts.ts";
import { renderXml } from "./xml.ts";

export function ctxOf(domain: Partial<VmiSpec["domain"]>, facts: Partial<LauncherFacts> = {}, rest: Partial<VmiSpec> = {}): DomainContext {
  const spec: VmiSpec = { domain: { resources: { requests: { memory: "64Mi" } }, devices: {}, ...domain }, ...rest };
  return {
    vmi: { namespace: "ns", name: "vm" },
    spec: applyVmiDefaults(spec),
    facts: { emulation: true, volumes: {}, interfaces: {}, ...facts },
  };
}

/** Renders each slot's elements on one line per element, whitespace-collapsed. */
export function render(c: Contribution): Record<string, string[]> {
  return Object.fromEntries(Object.entries(c).map(([slot, nodes]) => [slot, (nodes ?? []).map((n) => renderXml(n).replace(/\n\s*/g, ""))]));
}
