/** `bunvirt convert --to v1|v1alpha1 FILE`: the conversion webhook on plain files. */
import { stringify } from "yaml";
import { convert, type TargetVersion } from "../api/convert/index.ts";
import { checkDocuments } from "./input-set.ts";
import { readDocuments } from "./read-documents.ts";
import { UsageError } from "./usage.ts";

export async function convertCommand(
  to: string | undefined,
  output: string | undefined,
  files: string[],
  out: (text: string) => void,
  err: (line: string) => void,
): Promise<number> {
  if (to !== "v1" && to !== "v1alpha1") throw new UsageError(`--to must be v1 or v1alpha1, not "${to ?? ""}"`);
  if (output !== undefined && output !== "yaml" && output !== "json") throw new UsageError(`-o must be yaml or json, not "${output}"`);
  if (files.length !== 1) throw new UsageError("convert needs exactly one FILE");
  const docs = await readDocuments(files[0]!);
  const results: unknown[] = [];
  let failed = false;
  // A VM's instancetype and preference come from the same file: it is admitted as expanded.
  for (const { doc, result: checked } of checkDocuments(docs)) {
    if (!checked.ok) {
      for (const p of checked.problems) err(`${doc.label}: ${p.path}: ${p.rule}`);
      failed = true;
      continue;
    }
    try {
      results.push(convert(checked.valid, to as TargetVersion));
    } catch (e) {
      err(`${doc.label}: ${(e as Error).message}`);
      failed = true;
    }
  }
  if (failed) return 1;
  if (output === "json") out(JSON.stringify(results.length === 1 ? results[0] : { apiVersion: "v1", kind: "List", items: results }, null, 2) + "\n");
  else out(results.map((r) => stringify(r, { lineWidth: 0 })).join("---\n"));
  return 0;
}
