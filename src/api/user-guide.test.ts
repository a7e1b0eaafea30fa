/**
 * Manifests from KubeVirt's user guide that use only the implemented subset,
 * and the project's own examples (examples/), validate unchanged; the
 * examples together, as `bunvirt validate examples/*.yaml` reads them (a VM
 * there may name an instancetype of another file).
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { checkDocuments } from "../cli/input-set.ts";
import { describeDocument, parseManifests } from "./manifest.ts";
import { validate } from "./validate.ts";

const userGuide = new URL("../../tests/fixtures/user-guide/", import.meta.url).pathname;
const examples = new URL("../../examples/", import.meta.url).pathname;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => dir + f);
}

for (const [name, dir, atLeast] of [
  ["user guide manifests", userGuide, 8],
  ["examples", examples, 4],
] as const) {
  describe(name, () => {
    const files = yamlFiles(dir);
    test("there are fixtures", () => expect(files.length).toBeGreaterThanOrEqual(atLeast));
    if (dir === examples) {
      test("every document of every file, read together", async () => {
        const docs = (await Promise.all(files.map(async (file) => parseManifests(await Bun.file(file).text()).map((d) => ({ ...d, file, label: `${file}: ${describeDocument(d)}` }))))).flat();
        const refused = checkDocuments(docs).flatMap(({ doc, result }) => (result.ok ? [] : [{ doc: doc.label, problems: result.problems }]));
        expect(refused).toEqual([]);
      });
      return;
    }
    for (const f of files) {
      test(f.split("/").pop()!, async () => {
        const docs = parseManifests(await Bun.file(f).text());
        expect(docs.length).toBe(1);
        const r = validate(docs[0]!.value);
        expect(r.ok ? [] : r.problems).toEqual([]);
      });
    }
  });
}
