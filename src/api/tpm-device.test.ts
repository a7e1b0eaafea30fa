import { expect, test } from "bun:test";
import { hasTpm } from "./tpm-device.ts";
import type { VmiSpec } from "./v1/vmi.ts";

const spec = (tpm?: NonNullable<VmiSpec["domain"]["devices"]["tpm"]>): VmiSpec => ({ domain: { devices: tpm === undefined ? {} : { tpm } } });

test("a TPM when devices.tpm is set, unless enabled is false", () => {
  expect(hasTpm(spec())).toBe(false);
  expect(hasTpm(spec({}))).toBe(true);
  expect(hasTpm(spec({ enabled: true }))).toBe(true);
  expect(hasTpm(spec({ enabled: false }))).toBe(false);
  expect(hasTpm(spec({ enabled: false, persistent: true }))).toBe(false);
});
