/** The memory balloon (autoattachMemBalloon, default on) and the virtio RNG (devices.rng). */
import type { Configurator } from "../context.ts";
import { el } from "../xml.ts";

export const memballoon: Configurator = ({ spec }) => ({
  memballoon: [
    spec.domain.devices.autoattachMemBalloon === false
      ? el("memballoon", { model: "none" })
      : el("memballoon", { model: "virtio" }, el("stats", { period: 10 })),
  ],
});

export const rng: Configurator = ({ spec }) =>
  spec.domain.devices.rng === undefined ? {} : { rng: [el("rng", { model: "virtio" }, el("backend", { model: "random" }, "/dev/urandom"))] };
