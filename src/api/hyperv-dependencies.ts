/**
 * The Hyper-V enlightenments that need another one, and KubeVirt's way with
 * them: an enlightenment that is on turns on what it needs when that is not
 * set, and conflicts with it when it is set to off. One walk, leaves first
 * (synictimer turns synic on before synic's own need is looked at), shared by
 * the defaults (what to turn on) and admission (the conflicts). Pure.
 */
import type { Hyperv } from "./v1/hyperv.ts";

type Name = keyof Hyperv;

/** [enlightenment, what it needs], leaves first. */
export const hypervNeeds: readonly (readonly [Name, Name])[] = [
  ["evmcs", "vapic"],
  ["ipi", "vpindex"],
  ["tlbflush", "vpindex"],
  ["synictimer", "synic"],
  ["synic", "vpindex"],
];

/** On (present, enabled not false), off (enabled false) or not set. */
export function hypervState(h: Hyperv, name: Name): "on" | "off" | undefined {
  const f = h[name] as { enabled?: boolean } | undefined;
  if (f === undefined) return undefined;
  return f.enabled === false ? "off" : "on";
}

export interface HypervWalk {
  /** What the walk turned on, in order. */
  turnedOn: Name[];
  /** Enlightenments that are on while what they need is off. */
  conflicts: { feature: Name; needs: Name }[];
}

export function walkHypervNeeds(h: Hyperv): HypervWalk {
  const state = new Map<Name, "on" | "off" | undefined>();
  const get = (n: Name): "on" | "off" | undefined => (state.has(n) ? state.get(n) : hypervState(h, n));
  const turnedOn: Name[] = [];
  const conflicts: HypervWalk["conflicts"] = [];
  for (const [feature, needs] of hypervNeeds) {
    if (get(feature) !== "on") continue;
    const s = get(needs);
    if (s === undefined) {
      state.set(needs, "on");
      turnedOn.push(needs);
    } else if (s === "off") conflicts.push({ feature, needs });
  }
  return { turnedOn, conflicts };
}
