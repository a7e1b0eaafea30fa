import { expect, test } from "bun:test";
import { ctxOf, render } from "../../../tests/lib/domain.ts";
import { clock } from "./clock.ts";

test("no clock: UTC, RTC catchup, PIT delay, no HPET", () => {
  expect(render(clock(ctxOf({}))).clock).toEqual([
    "<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/><timer name='pit' tickpolicy='delay'/><timer name='hpet' present='no'/></clock>",
  ]);
});

test("a clock given: its offset and exactly its timers, KubeVirt's kvm and hyperv as kvmclock and hypervclock", () => {
  expect(render(clock(ctxOf({ clock: { utc: {}, timer: { hpet: { present: false }, rtc: { tickPolicy: "catchup", track: "guest" }, kvm: { present: true }, hyperv: {} } } }))).clock).toEqual([
    "<clock offset='utc'><timer name='rtc' tickpolicy='catchup' track='guest'/><timer name='hpet' present='no'/><timer name='kvmclock' present='yes'/><timer name='hypervclock'/></clock>",
  ]);
  expect(render(clock(ctxOf({ clock: { utc: { offsetSeconds: -7200 } } }))).clock).toEqual(["<clock offset='variable' adjustment='-7200' basis='utc'/>"]);
  expect(render(clock(ctxOf({ clock: { timezone: "Europe/Berlin", timer: { pit: { tickPolicy: "discard", present: true } } } }))).clock).toEqual([
    "<clock offset='timezone' timezone='Europe/Berlin'><timer name='pit' tickpolicy='discard' present='yes'/></clock>",
  ]);
});
