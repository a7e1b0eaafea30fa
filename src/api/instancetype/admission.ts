/**
 * Admission of instancetypes and preferences beyond their schema: memory
 * within the bounds a guest can have, a preferred time zone that exists.
 * Whether they fit a VM is checked when a VM names them (expand.ts).
 */
import { memoryBounds } from "../admission/resources.ts";
import { isKnownTimeZone } from "../admission/clock.ts";
import { joinPath, type Problem } from "../problem.ts";
import { parseQuantity } from "../quantity.ts";
import type { InstancetypeSpec } from "./instancetype.ts";
import type { PreferenceSpec } from "./preference.ts";

export function admitInstancetype(spec: InstancetypeSpec, at: string): Problem[] {
  const guest = spec.memory.guest;
  return memoryBounds(joinPath(at, "memory.guest"), guest, parseQuantity(guest));
}

export function admitPreference(spec: PreferenceSpec, at: string): Problem[] {
  const out: Problem[] = [];
  const memory = spec.requirements?.memory?.guest;
  if (memory !== undefined) out.push(...memoryBounds(joinPath(at, "requirements.memory.guest"), memory, parseQuantity(memory)));
  const zone = spec.clock?.preferredClockOffset?.timezone;
  if (zone !== undefined && !isKnownTimeZone(zone)) {
    out.push({ path: joinPath(at, "clock.preferredClockOffset.timezone"), rule: `"${zone}" is not a known IANA time zone, such as Europe/Berlin` });
  }
  const offset = spec.clock?.preferredClockOffset;
  if (offset?.utc !== undefined && offset.timezone !== undefined) {
    out.push({ path: joinPath(at, "clock.preferredClockOffset"), rule: "utc and timezone are mutually exclusive; set one" });
  }
  return out;
}
