/** `bunvirt validate FILE...`: admission's verdict on plain files. */
import { validate } from "../api/validate.ts";
import { readDocuments } from "./read-documents.ts";
import { UsageError } from "./usage.ts";

export async function validateCommand(files: string[], out: (line: string) => void): Promise<number> {
  if (files.length === 0) throw new UsageError("validate needs at least one FILE");
  let failed = false;
  for (const file of files) {
    let docs;
    try {
      docs = await readDocuments(file);
    } catch (e) {
      out((e as Error).message);
      failed = true;
      continue;
    }
    if (docs.length === 0) {
      out(`${file}: no documents`);
      failed = true;
    }
    for (const doc of docs) {
      const result = validate(doc.value);
      if (result.ok) {
        out(`${doc.label}: valid`);
        continue;
      }
      failed = true;
      for (const p of result.problems) out(`${doc.label}: ${p.path}: ${p.rule}`);
    }
  }
  return failed ? 1 : 0;
}
