import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { apply, diff, type Json } from "./merge-patch.ts";

const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("a", "b", "name", "c"), tie("value"), { maxKeys: 3 }),
  ),
})).value;

describe("merge patch", () => {
  test("apply(a, diff(a, b)) equals b", () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        const p = diff(a, b);
        expect(p === undefined ? a : apply(a, p)).toEqual(b);
      }),
      { numRuns: 500 },
    );
  });

  test("named lists are patched element by element and survive edits", () => {
    const from: Json = [{ name: "a", x: 1 }, { name: "b", x: 2 }];
    const to: Json = [{ name: "a", x: 1 }, { name: "b", x: 3 }];
    const p = diff(from, to);
    expect(p).toEqual({ $named: { b: { x: 3 } } });
    // Someone removed "b" and added "c" meanwhile: nothing stale comes back.
    expect(apply([{ name: "a", x: 1 }, { name: "c", x: 9 }], p!)).toEqual([{ name: "a", x: 1 }, { name: "c", x: 9 }]);
  });

  test("removed keys become null and are deleted", () => {
    expect(diff({ a: 1, b: 2 }, { a: 1 })).toEqual({ b: null });
    expect(apply({ a: 1, b: 2 }, { b: null })).toEqual({ a: 1 });
  });
});
