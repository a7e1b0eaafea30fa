/** Shared by the configurator tests: a small VMI spec, facts, and rendering of a contribution. */
import { applyVmiDefaults } from "../../src/api/defaults.ts";
import type { VmiSpec } from "../../src/api/v1/vmi.ts";
import type { Contribution, DomainContext } from "../../src/domain/context.ts";
import type { LauncherFacts } from "../../src/domain/facts.ts";
import { renderXml } from "../../src/domain/xml.ts";

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
