/** kubevirt.io/v1 Clock: the guest's clock offset and its timers. */
import * as v from "valibot";
import { doc, int, nonEmpty } from "./primitives.ts";

const present = (what: string) => doc(v.boolean(), `Give the guest ${what} (true) or take it away (false). Default: the machine's.`);

export const hpetTickPolicies = ["delay", "catchup", "merge", "discard"] as const;
export const pitTickPolicies = ["delay", "catchup", "discard"] as const;
export const rtcTickPolicies = ["delay", "catchup"] as const;
const tickText = "What to do with ticks the guest missed while it did not run: delay (deliver them late), catchup (deliver them faster until caught up), merge (one for all), discard (drop them).";

export const timer = v.strictObject({
  hpet: v.optional(doc(v.strictObject({
    tickPolicy: v.optional(doc(v.picklist(hpetTickPolicies), tickText)),
    present: v.optional(present("an HPET")),
  }), "The high precision event timer.")),
  kvm: v.optional(doc(v.strictObject({ present: v.optional(present("the paravirtual KVM clock")) }), "The KVM clock (kvmclock).")),
  pit: v.optional(doc(v.strictObject({
    tickPolicy: v.optional(doc(v.picklist(pitTickPolicies), tickText)),
    present: v.optional(present("the PIT")),
  }), "The programmable interval timer.")),
  rtc: v.optional(doc(v.strictObject({
    tickPolicy: v.optional(doc(v.picklist(rtcTickPolicies), tickText)),
    present: v.optional(present("the RTC")),
    track: v.optional(doc(v.picklist(["guest", "wall"]), "What the RTC follows: the guest's time (guest) or the host's wall clock (wall).")),
  }), "The real-time clock.")),
  hyperv: v.optional(doc(v.strictObject({ present: v.optional(present("the Hyper-V reference time counter")) }), "The Hyper-V clock (hypervclock), for Windows guests.")),
});

export const clock = v.strictObject({
  utc: v.optional(doc(v.strictObject({
    offsetSeconds: v.optional(doc(int(-2_147_483_648, 2_147_483_647), "Seconds the guest's clock is ahead of UTC (behind when negative) at boot. Default: 0.")),
  }), "The guest's RTC runs in UTC, optionally offset. Exclusive with timezone. Default when neither is set.")),
  timezone: v.optional(doc(nonEmpty(), "The guest's RTC runs in this IANA time zone, such as Europe/Berlin (Windows guests expect local time). Exclusive with utc.")),
  timer: v.optional(doc(timer, "The timers the guest sees and their tick policies. Default (no clock given): RTC catchup, PIT delay, no HPET.")),
});

export type Clock = v.InferOutput<typeof clock>;
