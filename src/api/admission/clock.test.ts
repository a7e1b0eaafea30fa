import { expect, test } from "bun:test";
import type { VmiSpec } from "../v1/vmi.ts";
import { checkClock } from "./clock.ts";

const spec = (clock: NonNullable<VmiSpec["domain"]["clock"]>): VmiSpec => ({ domain: { devices: {}, clock } });

test("UTC, an offset, or a known time zone pass", () => {
  expect(checkClock({ domain: { devices: {} } }, "spec")).toEqual([]);
  expect(checkClock(spec({ utc: { offsetSeconds: -3600 } }), "spec")).toEqual([]);
  expect(checkClock(spec({ timezone: "Europe/Berlin", timer: { hpet: { present: false } } }), "spec")).toEqual([]);
});

test("UTC with a time zone, and a zone the IANA database does not have, are refused at the timezone", () => {
  expect(checkClock(spec({ utc: {}, timezone: "UTC" }), "spec")).toEqual([{ path: "spec.domain.clock.timezone", rule: "utc and timezone exclude each other; set one" }]);
  expect(checkClock(spec({ timezone: "Mars/Olympus_Mons" }), "spec")).toEqual([
    { path: "spec.domain.clock.timezone", rule: "\"Mars/Olympus_Mons\" is not an IANA time zone (such as Europe/Berlin or America/New_York)" },
  ]);
  expect(checkClock(spec({ timezone: "../../etc/passwd" }), "spec").map((p) => p.path)).toEqual(["spec.domain.clock.timezone"]);
});
