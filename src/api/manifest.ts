/** Reading manifests: YAML or JSON, one or many documents (YAML `---`, JSON lists and `kind: List`). */
import { parseAllDocuments } from "yaml";

export interface Document {
  /** 1-based position in the file. */
  index: number;
  value: unknown;
}

export function parseManifests(text: string): Document[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined) return flatten(Array.isArray(parsed) ? parsed : [parsed]);
  }
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const values: unknown[] = [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error !== undefined) throw new Error(`Cannot parse YAML: ${error.message}`, { cause: error });
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (value !== null && value !== undefined) values.push(value);
  }
  return flatten(values);
}

function flatten(values: unknown[]): Document[] {
  const out: unknown[] = [];
  for (const v of values) {
    const o = v as { kind?: unknown; items?: unknown };
    if (o !== null && typeof o === "object" && o.kind === "List" && Array.isArray(o.items)) out.push(...o.items);
    else out.push(v);
  }
  return out.map((value, i) => ({ index: i + 1, value }));
}

export function describeDocument(doc: Document): string {
  const o = doc.value as { kind?: unknown; metadata?: { name?: unknown } } | null;
  const v = doc.value;
  const kind = typeof o?.kind === "string" ? o.kind : Array.isArray(v) ? "list" : v !== null && typeof v === "object" ? "object" : typeof v;
  const name = typeof o?.metadata?.name === "string" ? ` "${o.metadata.name}"` : "";
  return `document ${doc.index} (${kind}${name})`;
}
