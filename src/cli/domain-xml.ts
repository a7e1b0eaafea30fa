/** `bunvirt domain-xml FILE... [--emulation]`: the domain the launcher would define, with placeholder paths. */
import { domainXml, placeholderFacts, vmiOf } from "../domain/index.ts";
import { oneVm } from "./input-set.ts";

export async function domainXmlCommand(files: string[], emulation: boolean, out: (text: string) => void, err: (line: string) => void): Promise<number> {
  const found = await oneVm(files, "domain-xml");
  if ("errors" in found) {
    for (const line of found.errors) err(line);
    return 1;
  }
  const { identity, spec } = vmiOf(found.valid);
  try {
    out(domainXml(identity, spec, placeholderFacts(`${identity.namespace}/${identity.name}`, spec, emulation)));
  } catch (e) {
    err(`${found.doc.label}: ${(e as Error).message}`);
    return 1;
  }
  return 0;
}
