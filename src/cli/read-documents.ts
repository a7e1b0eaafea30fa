import { describeSystemError } from "../errors/system-error.ts";
import { describeDocument, parseManifests, type Document } from "../api/manifest.ts";

export interface FileDocument extends Document {
  file: string;
  label: string;
}

/** Reads every document of every file; "-" is standard input. */
export async function readDocuments(file: string): Promise<FileDocument[]> {
  let text: string;
  try {
    text = file === "-" ? await Bun.stdin.text() : await Bun.file(file).text();
  } catch (cause) {
    throw new Error(`Cannot read "${file}": ${describeSystemError(cause)}`, { cause });
  }
  let docs: Document[];
  try {
    docs = parseManifests(text);
  } catch (cause) {
    throw new Error(`${file}: ${(cause as Error).message}`, { cause });
  }
  return docs.map((d) => ({ ...d, file, label: `${file}: ${describeDocument(d)}` }));
}
