/** `bunvirt validate FILE...`: admission's verdict on plain files; a VM's instancetype and preference come from the same files. */
import { readDocuments, type FileDocument } from "./read-documents.ts";
import { checkDocuments } from "./input-set.ts";
import { UsageError } from "./usage.ts";

export async function validateCommand(files: string[], out: (line: string) => void): Promise<number> {
  if (files.length === 0) throw new UsageError("validate needs at least one FILE");
  let failed = false;
  const docs: FileDocument[] = [];
  for (const file of files) {
    let read;
    try {
      read = await readDocuments(file);
    } catch (e) {
      out((e as Error).message);
      failed = true;
      continue;
    }
    if (read.length === 0) {
      out(`${file}: no documents`);
      failed = true;
    }
    docs.push(...read);
  }
  for (const { doc, result } of checkDocuments(docs)) {
    if (result.ok) {
      out(`${doc.label}: valid`);
      continue;
    }
    failed = true;
    for (const p of result.problems) out(`${doc.label}: ${p.path}: ${p.rule}`);
  }
  return failed ? 1 : 0;
}
