/** UTC clock with the timer policies KubeVirt uses for guests that may be descheduled. */
import type { Configurator } from "../context.ts";
import { el } from "../xml.ts";

export const clock: Configurator = () => ({
  clock: [
    el("clock", { offset: "utc" },
      el("timer", { name: "rtc", tickpolicy: "catchup" }),
      el("timer", { name: "pit", tickpolicy: "delay" }),
      el("timer", { name: "hpet", present: "no" })),
  ],
});

/** Power-off and crash end the domain (the launcher then ends); a guest reboot restarts it in place. */
export const lifecycle: Configurator = () => ({
  on_poweroff: [el("on_poweroff", {}, "destroy")],
  on_reboot: [el("on_reboot", {}, "restart")],
  on_crash: [el("on_crash", {}, "destroy")],
});
