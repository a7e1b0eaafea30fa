import { expect, test } from "bun:test";
import type { VmiSpec } from "../v1/vmi.ts";
import { checkHyperv } from "./hyperv.ts";

const spec = (hyperv: NonNullable<NonNullable<VmiSpec["domain"]["features"]>["hyperv"]>): VmiSpec => ({ domain: { devices: {}, features: { hyperv } } });

test("no enlightenments, or all of them with what they need, pass", () => {
  expect(checkHyperv({ domain: { devices: {} } }, "spec")).toEqual([]);
  expect(checkHyperv(spec({ relaxed: {}, vapic: {}, spinlocks: { spinlocks: 8191 }, synictimer: { direct: {} }, reset: {}, vendorid: { vendorid: "KVMKVMKVM" }, frequencies: {}, reenlightenment: {}, tlbflush: {}, ipi: {}, evmcs: {} }), "spec")).toEqual([]);
});

test("an enlightenment on whose need is off is refused at its own path, naming the need", () => {
  expect(checkHyperv(spec({ synictimer: {}, vpindex: { enabled: false } }), "spec.template.spec")).toEqual([
    { path: "spec.template.spec.domain.features.hyperv.synic", rule: "synic needs vpindex, which is turned off (spec.template.spec.domain.features.hyperv.vpindex.enabled: false); turn vpindex on or synic off" },
  ]);
  expect(checkHyperv(spec({ evmcs: {}, vapic: { enabled: false } }), "spec").map((p) => p.path)).toEqual(["spec.domain.features.hyperv.evmcs"]);
});

test("a vendor id on without a value, and the TLB flush modes libvirt 9.0 lacks, are refused", () => {
  expect(checkHyperv(spec({ vendorid: {} }), "spec")).toEqual([
    { path: "spec.domain.features.hyperv.vendorid.vendorid", rule: "a vendor id that is on needs its value (1 to 12 characters, such as KVMKVMKVM)" },
  ]);
  expect(checkHyperv(spec({ vendorid: { enabled: false } }), "spec")).toEqual([]);
  expect(checkHyperv(spec({ vpindex: {}, tlbflush: { direct: {}, extended: { enabled: false } } }), "spec").map((p) => p.path)).toEqual([
    "spec.domain.features.hyperv.tlbflush.direct",
    "spec.domain.features.hyperv.tlbflush.extended",
  ]);
});
