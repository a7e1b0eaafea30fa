import { expect, test } from "bun:test";
import { describeDocument, parseManifests } from "./manifest.ts";

test("YAML multi-document, skipping empty documents", () => {
  const docs = parseManifests("a: 1\n---\n---\nkind: VirtualMachine\nmetadata: {name: x}\n");
  expect(docs.map((d) => d.value)).toEqual([{ a: 1 }, { kind: "VirtualMachine", metadata: { name: "x" } }]);
  expect(describeDocument(docs[1]!)).toBe('document 2 (VirtualMachine "x")');
});

test("JSON object, JSON array and kind: List", () => {
  expect(parseManifests('{"a":1}').map((d) => d.value)).toEqual([{ a: 1 }]);
  expect(parseManifests('[{"a":1},{"b":2}]').length).toBe(2);
  expect(parseManifests("kind: List\nitems:\n- a: 1\n- b: 2\n").map((d) => d.value)).toEqual([{ a: 1 }, { b: 2 }]);
});

test("broken YAML is an error that says so", () => {
  expect(() => parseManifests("a: [1\n")).toThrow(/Cannot parse YAML/);
});
