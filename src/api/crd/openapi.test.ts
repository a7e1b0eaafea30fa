import { expect, test } from "bun:test";
import * as v from "valibot";
import { doc } from "../v1/primitives.ts";
import { requireDescriptions, toOpenApi, undescribedFields } from "./openapi.ts";

const described = v.strictObject({
  a: doc(v.string(), "A string."),
  list: v.optional(doc(v.array(v.strictObject({ x: doc(v.boolean(), "A flag.") })), "A list.")),
});

test("a fully described schema passes, descriptions land on the fields", () => {
  const o = requireDescriptions(toOpenApi(described), "test");
  expect(o.properties?.a).toEqual({ type: "string", description: "A string." });
  expect(o.properties?.list?.items?.properties?.x).toEqual({ type: "boolean", description: "A flag." });
});

test("the generator refuses a field without a description, naming its path", () => {
  const schema = v.strictObject({
    a: doc(v.string(), "A string."),
    inner: doc(v.strictObject({ items: v.array(v.strictObject({ deep: v.optional(v.number()) })) }), "Inner."),
  });
  const o = toOpenApi(schema);
  expect(undescribedFields(o)).toEqual(["inner.items", "inner.items[].deep"]);
  expect(() => requireDescriptions(o, "Test v1")).toThrow(/Cannot generate the schema of Test v1: 2 field\(s\) have no description.*inner\.items, inner\.items\[\]\.deep/);
  expect(() => requireDescriptions(toOpenApi(v.strictObject({ a: doc(v.string(), "  ") })), "Test v1")).toThrow(/: a$/);
});

test("a description on an already piped schema keeps the inner constraints; the outer text wins", () => {
  const inner = doc(v.pipe(v.string(), v.regex(/^[a-z]+$/), v.minLength(2), v.maxLength(8)), "inner");
  expect(toOpenApi(doc(inner, "outer"))).toEqual({ type: "string", pattern: "^[a-z]+$", minLength: 2, maxLength: 8, description: "outer" });
  expect(toOpenApi(doc(v.pipe(v.array(v.string()), v.minLength(1), v.maxLength(3)), "list"))).toMatchObject({ minItems: 1, maxItems: 3 });
  expect(toOpenApi(v.optional(doc(v.picklist(["x", "y"]), "pick")))).toEqual({ type: "string", enum: ["x", "y"], description: "pick" });
});

test("a validation OpenAPI cannot say is refused unless it is a custom check (admission's)", () => {
  expect(() => toOpenApi(v.pipe(v.string(), v.email()))).toThrow(/Cannot express the validation "email" in OpenAPI/);
  expect(() => toOpenApi(v.pipe(v.string(), v.regex(/a/i)))).toThrow(/flags are not supported/);
  expect(toOpenApi(v.pipe(v.string(), v.check((s) => s !== "x")))).toEqual({ type: "string" });
});
