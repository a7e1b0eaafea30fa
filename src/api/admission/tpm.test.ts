import { expect, test } from "bun:test";
import type { VmiSpec } from "../v1/vmi.ts";
import { checkTpm } from "./tpm.ts";

const spec = (tpm: NonNullable<VmiSpec["domain"]["devices"]["tpm"]>): VmiSpec => ({ domain: { devices: { tpm } } });

test("a TPM, one turned off, and persistent false pass", () => {
  expect(checkTpm({ domain: { devices: {} } }, "spec")).toEqual([]);
  expect(checkTpm(spec({}), "spec")).toEqual([]);
  expect(checkTpm(spec({ persistent: false }), "spec")).toEqual([]);
  expect(checkTpm(spec({ enabled: false, persistent: true }), "spec")).toEqual([]);
});

test("a persistent TPM is refused at the field, saying why", () => {
  const problems = checkTpm(spec({ persistent: true }), "spec.template.spec");
  expect(problems.map((p) => p.path)).toEqual(["spec.template.spec.domain.devices.tpm.persistent"]);
  expect(problems[0]!.rule).toMatch(/^must not be true: bunvirt keeps no state across restarts/);
});
