import { expect, test } from "bun:test";
import { mergePatch } from "./merge-patch.ts";

test("nothing changed: no patch", () => {
  expect(mergePatch({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 2] } })).toBeNull();
});

test("changed, added and removed keys; nested objects by key; arrays whole", () => {
  const from = { phase: "Pending", keep: 1, gone: "x", nested: { a: 1, b: 2 }, conditions: [{ type: "Ready", status: "False" }] };
  const to = { phase: "Scheduling", keep: 1, nested: { a: 1, c: 3 }, conditions: [{ type: "Ready", status: "False" }, { type: "X", status: "True" }] };
  expect(mergePatch(from, to)).toEqual({
    phase: "Scheduling",
    gone: null,
    nested: { b: null, c: 3 },
    conditions: [{ type: "Ready", status: "False" }, { type: "X", status: "True" }],
  });
});

test("an object replacing a scalar is sent whole", () => {
  expect(mergePatch({ s: "x" }, { s: { a: 1 } })).toEqual({ s: { a: 1 } });
});
