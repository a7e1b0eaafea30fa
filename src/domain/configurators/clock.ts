/**
 * <clock>: without a clock in the spec, UTC with the timer policies KubeVirt
 * uses for guests that may be descheduled; with one, its offset (UTC, UTC
 * adjusted by offsetSeconds, or a time zone) and exactly the timers it sets
 * (KubeVirt's kvm and hyperv timers are libvirt's kvmclock and hypervclock).
 */
import type { Clock } from "../../api/v1/clock.ts";
import type { Configurator } from "../context.ts";
import { el, type XmlNode } from "../xml.ts";

const yesNo = (b: boolean | undefined): { present?: string } => (b === undefined ? {} : { present: b ? "yes" : "no" });

function offsetOf(clock: Clock): XmlNode["attrs"] {
  if (clock.timezone !== undefined) return { offset: "timezone", timezone: clock.timezone };
  const seconds = clock.utc?.offsetSeconds;
  return seconds === undefined ? { offset: "utc" } : { offset: "variable", adjustment: seconds, basis: "utc" };
}

function timersOf(clock: Clock): XmlNode[] {
  const t = clock.timer ?? {};
  const timers: (XmlNode | false)[] = [
    t.rtc !== undefined && el("timer", { name: "rtc", ...(t.rtc.tickPolicy ? { tickpolicy: t.rtc.tickPolicy } : {}), ...(t.rtc.track ? { track: t.rtc.track } : {}), ...yesNo(t.rtc.present) }),
    t.pit !== undefined && el("timer", { name: "pit", ...(t.pit.tickPolicy ? { tickpolicy: t.pit.tickPolicy } : {}), ...yesNo(t.pit.present) }),
    t.hpet !== undefined && el("timer", { name: "hpet", ...(t.hpet.tickPolicy ? { tickpolicy: t.hpet.tickPolicy } : {}), ...yesNo(t.hpet.present) }),
    t.kvm !== undefined && el("timer", { name: "kvmclock", ...yesNo(t.kvm.present) }),
    t.hyperv !== undefined && el("timer", { name: "hypervclock", ...yesNo(t.hyperv.present) }),
  ];
  return timers.filter((x): x is XmlNode => x !== false);
}

export const clock: Configurator = ({ spec }) => {
  const c = spec.domain.clock;
  if (c === undefined) {
    return {
      clock: [
        el("clock", { offset: "utc" },
          el("timer", { name: "rtc", tickpolicy: "catchup" }),
          el("timer", { name: "pit", tickpolicy: "delay" }),
          el("timer", { name: "hpet", present: "no" })),
      ],
    };
  }
  return { clock: [el("clock", offsetOf(c), ...timersOf(c))] };
};

/** Power-off and crash end the domain (the launcher then ends); a guest reboot restarts it in place. */
export const lifecycle: Configurator = () => ({
  on_poweroff: [el("on_poweroff", {}, "destroy")],
  on_reboot: [el("on_reboot", {}, "restart")],
  on_crash: [el("on_crash", {}, "destroy")],
});
