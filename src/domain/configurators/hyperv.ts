/**
 * <hyperv>: KubeVirt's enlightenment fields as libvirt's elements (synictimer
 * is <stimer>, vendorid <vendor_id>), each on or off as set, in libvirt's
 * order; the spec is already defaulted (what an enlightenment needs is on).
 * The features configurator leaves it out under emulation.
 */
import { hypervState } from "../../api/hyperv-dependencies.ts";
import type { Hyperv } from "../../api/v1/hyperv.ts";
import { el, type XmlNode } from "../xml.ts";

const defaultSpinlockRetries = 4096;

type Attrs = XmlNode["attrs"];

/** libvirt's element for each field, its attributes and children when on. */
const elements: readonly [keyof Hyperv, string, (h: Hyperv) => { attrs?: Attrs; children?: (XmlNode | false)[] }][] = [
  ["relaxed", "relaxed", () => ({})],
  ["vapic", "vapic", () => ({})],
  ["spinlocks", "spinlocks", (h) => ({ attrs: { retries: h.spinlocks?.spinlocks ?? defaultSpinlockRetries } })],
  ["vpindex", "vpindex", () => ({})],
  ["runtime", "runtime", () => ({})],
  ["synic", "synic", () => ({})],
  ["synictimer", "stimer", (h) => ({ children: [sub(h.synictimer?.direct, "direct")] })],
  ["reset", "reset", () => ({})],
  ["vendorid", "vendor_id", (h) => ({ attrs: { value: h.vendorid?.vendorid ?? "" } })],
  ["frequencies", "frequencies", () => ({})],
  ["reenlightenment", "reenlightenment", () => ({})],
  ["tlbflush", "tlbflush", (h) => ({ children: [sub(h.tlbflush?.direct, "direct"), sub(h.tlbflush?.extended, "extended")] })],
  ["ipi", "ipi", () => ({})],
  ["evmcs", "evmcs", () => ({})],
];

function sub(f: { enabled?: boolean } | undefined, name: string): XmlNode | false {
  return f !== undefined && el(name, { state: f.enabled === false ? "off" : "on" });
}

/** null when no enlightenment is set. */
export function hypervElement(h: Hyperv): XmlNode | null {
  const nodes: XmlNode[] = [];
  for (const [field, name, on] of elements) {
    const s = hypervState(h, field);
    if (s === undefined) continue;
    if (s === "off") {
      nodes.push(el(name, { state: "off" }));
      continue;
    }
    const { attrs = {}, children = [] } = on(h);
    nodes.push(el(name, { state: "on", ...attrs }, ...children));
  }
  return nodes.length === 0 ? null : el("hyperv", { mode: "custom" }, ...nodes);
}
