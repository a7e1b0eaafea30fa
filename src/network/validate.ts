/**
 * What a binding refuses before it touches the namespace. The bindings take
 * an admitted spec (src/api/admission decides which interfaces, networks,
 * MACs and ports are sound, and the launcher admits every spec it is given),
 * so they check only what admission cannot know: the names of the pod's
 * devices and the launcher's own settings. Pure: each function returns short
 * phrases with values in quotes, [] when all is well.
 */
import { normalizeMac } from "../api/mac.ts";
import { bindingsOf } from "../api/v1/interface.ts";
import type { BindingContext, BindingKind } from "./binding.ts";
import type { Interface } from "./spec.ts";

/** A Linux interface name: 1-15 bytes, no "/", ":" or white space, not "." or "..". */
export function interfaceNameProblem(role: string, name: string): string | null {
  if (name.length === 0 || name.length > 15) return `${role} "${name}" must be 1 to 15 characters long`;
  if (/[/:\s]/.test(name) || name === "." || name === "..") return `${role} "${name}" must not contain "/", ":" or white space`;
  return null;
}

export function bridgeName(podInterface: string): string {
  return `k6t-${podInterface}`;
}

/** Problems with the binding context (names, owner, default MAC). */
export function contextProblems(ctx: BindingContext): string[] {
  const out: string[] = [];
  for (const p of [
    interfaceNameProblem("podInterface", ctx.podInterface),
    interfaceNameProblem("tap", ctx.tap),
    interfaceNameProblem("bridge", bridgeName(ctx.podInterface)),
  ]) {
    if (p !== null) out.push(p);
  }
  if (ctx.tap === ctx.podInterface || ctx.tap === bridgeName(ctx.podInterface)) out.push(`tap "${ctx.tap}" must not be the pod interface or the bridge`);
  if (ctx.tapOwner !== undefined && (!Number.isInteger(ctx.tapOwner) || ctx.tapOwner < 0)) out.push(`tapOwner "${ctx.tapOwner}" is not a uid`);
  if (ctx.defaultMac !== undefined && normalizeMac(ctx.defaultMac) === null) out.push(`defaultMac "${ctx.defaultMac}" is not a MAC address`);
  if (ctx.stateDir === "") out.push("stateDir must not be empty");
  return out;
}

/** The binding an interface asks for, or null when it sets none or several (a spec admission refuses). */
export function bindingOf(nic: Interface): BindingKind | null {
  const set = bindingsOf(nic);
  return set.length === 1 ? (set[0] ?? null) : null;
}
