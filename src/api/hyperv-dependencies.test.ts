import { expect, test } from "bun:test";
import { walkHypervNeeds } from "./hyperv-dependencies.ts";

test("a synic timer turns on synic, and synic the VP index; nothing set needs nothing", () => {
  expect(walkHypervNeeds({ synictimer: {} })).toEqual({ turnedOn: ["synic", "vpindex"], conflicts: [] });
  expect(walkHypervNeeds({ relaxed: {}, runtime: {}, reset: {} })).toEqual({ turnedOn: [], conflicts: [] });
  expect(walkHypervNeeds({ evmcs: {}, ipi: {}, tlbflush: {} })).toEqual({ turnedOn: ["vapic", "vpindex"], conflicts: [] });
});

test("an enlightenment that is off needs nothing; one that is on conflicts with what it needs set off", () => {
  expect(walkHypervNeeds({ synic: { enabled: false }, vpindex: { enabled: false } })).toEqual({ turnedOn: [], conflicts: [] });
  expect(walkHypervNeeds({ synictimer: { enabled: true }, vpindex: { enabled: false } })).toEqual({
    turnedOn: ["synic"],
    conflicts: [{ feature: "synic", needs: "vpindex" }],
  });
  expect(walkHypervNeeds({ evmcs: {}, vapic: { enabled: false }, ipi: {}, vpindex: { enabled: false } }).conflicts).toEqual([
    { feature: "evmcs", needs: "vapic" },
    { feature: "ipi", needs: "vpindex" },
  ]);
});
