/** `bunvirt domain-xml FILE [--emulation]`: the domain the launcher would define, with placeholder paths. */
import { validate } from "../api/validate.ts";
import { domainXml, placeholderFacts, vmiOf } from "../domain/index.ts";
import { readDocuments } from "./read-documents.ts";
import { UsageError } from "./usage.ts";

export async function domainXmlCommand(files: string[], emulation: boolean, out: (text: string) => void, err: (line: string) => void): Promise<number> {
  if (files.length !== 1) throw new UsageError("domain-xml needs exactly one FILE");
  const docs = await readDocuments(files[0]!);
  if (docs.length !== 1) throw new UsageError(`domain-xml needs a file with one manifest; "${files[0]}" has ${docs.length}`);
  const doc = docs[0]!;
  const checked = validate(doc.value);
  if (!checked.ok) {
    for (const p of checked.problems) err(`${doc.label}: ${p.path}: ${p.rule}`);
    return 1;
  }
  const { identity, spec } = vmiOf(checked.valid);
  try {
    out(domainXml(identity, spec, placeholderFacts(`${identity.namespace}/${identity.name}`, spec, emulation)));
  } catch (e) {
    err(`${doc.label}: ${(e as Error).message}`);
    return 1;
  }
  return 0;
}
