/**
 * Every document of every file given to a command, validated together: the
 * instancetypes and preferences among them are what the VMs among them
 * resolve their names to (documentSource).
 */
import { documentSource } from "../api/instancetype/document-source.ts";
import { isVmLike, validate, type Result, type VmLike } from "../api/validate.ts";
import { readDocuments, type FileDocument } from "./read-documents.ts";
import { UsageError } from "./usage.ts";

export interface Checked {
  doc: FileDocument;
  result: Result;
}

const isInstancetypeKind = (value: unknown) => {
  const apiVersion = (value as { apiVersion?: unknown } | null)?.apiVersion;
  return typeof apiVersion === "string" && apiVersion.startsWith("instancetype.kubevirt.io/");
};

/** Validates the documents; instancetypes and preferences first, then the rest with them as the source. */
export function checkDocuments(docs: readonly FileDocument[]): Checked[] {
  const results = new Map<FileDocument, Result>();
  for (const doc of docs) if (isInstancetypeKind(doc.value)) results.set(doc, validate(doc.value));
  const source = documentSource([...results.values()].flatMap((r) => (r.ok ? [r.valid] : [])));
  return docs.map((doc) => ({ doc, result: results.get(doc) ?? validate(doc.value, source) }));
}

export async function readAll(files: readonly string[]): Promise<FileDocument[]> {
  return (await Promise.all(files.map((f) => readDocuments(f)))).flat();
}

/**
 * The one VM or VMI among the files (their instancetypes and preferences
 * beside it), or the problems as lines; `command` names the command in errors.
 */
export async function oneVm(files: readonly string[], command: string): Promise<{ doc: FileDocument; valid: VmLike } | { errors: string[] }> {
  if (files.length === 0) throw new UsageError(`${command} needs a FILE`);
  const checked = checkDocuments(await readAll(files));
  const vms = checked.filter((c) => !isInstancetypeKind(c.doc.value));
  const where = files.length === 1 ? `"${files[0]}" has` : `the files have`;
  if (vms.length !== 1) throw new UsageError(`${command} needs one VirtualMachine or VirtualMachineInstance (and any instancetypes and preferences it names); ${where} ${vms.length}`);
  const errors = checked.flatMap((c) => (c.result.ok ? [] : c.result.problems.map((p) => `${c.doc.label}: ${p.path}: ${p.rule}`)));
  if (errors.length > 0) return { errors };
  const { doc, result } = vms[0]!;
  if (!result.ok || !isVmLike(result.valid)) return { errors: [`${doc.label}: is not a VirtualMachine or VirtualMachineInstance`] };
  return { doc, valid: result.valid };
}
