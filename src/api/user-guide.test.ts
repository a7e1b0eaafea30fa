/** Manifests from KubeVirt's user guide that use only the implemented subset validate unchanged. */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { parseManifests } from "./manifest.ts";
import { validate } from "./validate.ts";

const dir = new URL("../../tests/fixtures/user-guide/", import.meta.url).pathname;
const seed = new URL("../../../shared/seed/seed-vm.yaml", import.meta.url).pathname;

describe("user guide manifests", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
  test("there are fixtures", () => expect(files.length).toBeGreaterThanOrEqual(8));
  for (const f of [...files.map((x) => dir + x), seed]) {
    test(f.split("/").pop()!, async () => {
      const docs = parseManifests(await Bun.file(f).text());
      expect(docs.length).toBe(1);
      const r = validate(docs[0]!.value);
      expect(r.ok ? [] : r.problems).toEqual([]);
    });
  }
});
