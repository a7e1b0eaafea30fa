import { expect, test } from "bun:test";
import { ctxOf, render } from "../../../tests/lib/domain.ts";
import { tpm } from "./tpm.ts";

test("tpm: {} is an emulated TPM 2.0 on TIS", () => {
  expect(render(tpm(ctxOf({ devices: { tpm: {} } })))).toEqual({ tpm: ["<tpm model='tpm-tis'><backend type='emulator' version='2.0'/></tpm>"] });
  expect(render(tpm(ctxOf({ devices: { tpm: { enabled: true, persistent: false } } })))).toEqual({ tpm: ["<tpm model='tpm-tis'><backend type='emulator' version='2.0'/></tpm>"] });
});

test("no tpm, or enabled false: no TPM element", () => {
  expect(tpm(ctxOf({ devices: {} }))).toEqual({});
  expect(tpm(ctxOf({ devices: { tpm: { enabled: false } } }))).toEqual({});
});
