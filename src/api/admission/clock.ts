/** The clock: UTC or a time zone, not both; a time zone the IANA database knows. */
import { joinPath, type Problem } from "../problem.ts";
import type { VmiSpec } from "../v1/vmi.ts";

/** Whether the IANA time zone database (the one ICU carries) has this zone. */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function checkClock(spec: VmiSpec, at: string): Problem[] {
  const clock = spec.domain.clock;
  if (clock === undefined) return [];
  const here = joinPath(at, "domain.clock");
  const out: Problem[] = [];
  if (clock.utc !== undefined && clock.timezone !== undefined) {
    out.push({ path: joinPath(here, "timezone"), rule: "utc and timezone exclude each other; set one" });
  }
  if (clock.timezone !== undefined && !isKnownTimeZone(clock.timezone)) {
    out.push({ path: joinPath(here, "timezone"), rule: `"${clock.timezone}" is not an IANA time zone (such as Europe/Berlin or America/New_York)` });
  }
  return out;
}
