import { expect, test } from "bun:test";
import { decodeDomainSearch, domainNameProblem, encodeDomainSearch } from "./domain-search.ts";
import { ascii } from "../../../tests/lib/dhcp-bytes.ts";

test("Kubernetes search list: later names point into the first one", () => {
  const wire = encodeDomainSearch(["default.svc.cluster.local", "svc.cluster.local", "cluster.local"]);
  expect(Array.from(wire)).toEqual([
    7, ...ascii("default"), 3, ...ascii("svc"), 7, ...ascii("cluster"), 5, ...ascii("local"), 0,
    0xc0, 8, // svc.cluster.local -> offset 8
    0xc0, 12, // cluster.local -> offset 12
  ]);
  const back = decodeDomainSearch(wire);
  expect(back).toEqual({ ok: true, value: ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"] });
});

test("unrelated names are written out; a shared suffix is compressed after its labels", () => {
  const wire = encodeDomainSearch(["a.example", "b.test.", "c.example"]);
  expect(Array.from(wire)).toEqual([
    1, 0x61, 7, ...ascii("example"), 0,
    1, 0x62, 4, ...ascii("test"), 0,
    1, 0x63, 0xc0, 2,
  ]);
});

test("the root name is one zero byte and decodes as '.'", () => {
  expect(Array.from(encodeDomainSearch(["."]))).toEqual([0]);
  expect(decodeDomainSearch(Uint8Array.of(0))).toEqual({ ok: true, value: ["."] });
});

test("an empty list encodes to nothing", () => {
  expect(encodeDomainSearch([]).length).toBe(0);
  expect(decodeDomainSearch(new Uint8Array(0))).toEqual({ ok: true, value: [] });
});

test.each([
  ["cluster.local", null],
  ["a..b", /empty label/],
  [`${"x".repeat(64)}.com`, /longer than 63/],
  [Array.from({ length: 64 }, () => "abc").join("."), /longer than 255/],
  ["caf\u00e9.example", null],
  ["\u4e2d.example", /outside one byte/],
])("domainNameProblem(%p)", (name, problem) => {
  const p = domainNameProblem(name);
  if (problem === null) expect(p).toBeNull();
  else expect(p).toMatch(problem);
});
