import { expect, test } from "bun:test";
import { canonicalJson } from "./canonical-json.ts";

test("canonicalJson ignores key order and undefined members", () => {
  expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
  expect(canonicalJson({ nic: { name: "a", masquerade: {} }, network: undefined })).toBe(canonicalJson({ nic: { masquerade: {}, name: "a" } }));
});
