/**
 * The three spellings of every file: the ISO 9660 level 1 identifier of the
 * primary tree (8.3 d-characters plus ";1", e.g. "META_DAT.;1"), the Joliet
 * name (UCS-2, nearly the real name) and the Rock Ridge NM name (the real
 * name, UTF-8). Validation of the caller's names lives here too.
 */
import { compareJoliet, JOLIET_MAX_NAME_LENGTH, jolietName } from "./joliet.ts";

/** Spellings of one file, in the order the caller gave it. */
export interface FileNaming {
  /** The caller's name, used verbatim as the Rock Ridge name. */
  readonly name: string;
  /** ISO 9660 level 1 file identifier including ".;1", ASCII. */
  readonly primary: string;
  /** Joliet identifier (UTF-16 string, encoded as UCS-2 big-endian). */
  readonly joliet: string;
}

const BASE_LENGTH = 8;
const EXTENSION_LENGTH = 3;

function quote(name: string): string {
  return JSON.stringify(name);
}

/** Throws `Cannot build ISO: ...` if `name` cannot be a file in the flat root. */
export function validateFileName(name: string): void {
  if (name.length === 0) throw new Error("Cannot build ISO: a file name is empty");
  if (name.includes("/")) throw new Error(`Cannot build ISO: file name ${quote(name)} contains "/"`);
  if (name === "." || name === "..") {
    throw new Error(`Cannot build ISO: file name ${quote(name)} is reserved`);
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new Error(`Cannot build ISO: file name ${quote(name)} contains a control character`);
  }
  if (!name.isWellFormed()) {
    throw new Error(`Cannot build ISO: file name ${quote(name)} contains an unpaired surrogate`);
  }
  if (name.length > JOLIET_MAX_NAME_LENGTH) {
    throw new Error(
      `Cannot build ISO: file name ${quote(name)} is ${name.length} characters long, Joliet allows at most ${JOLIET_MAX_NAME_LENGTH}`,
    );
  }
}

function toDCharacters(text: string): string {
  let out = "";
  for (const ch of text) {
    if (/^[a-z]$/.test(ch)) out += ch.toUpperCase();
    else out += /^[A-Z0-9_]$/.test(ch) ? ch : "_";
  }
  return out;
}

/** Level 1 name and extension for `name` before de-duplication. */
export function primaryParts(name: string): { base: string; extension: string } {
  const dot = name.lastIndexOf(".");
  const rawBase = dot === -1 ? name : name.slice(0, dot);
  const rawExtension = dot === -1 ? "" : name.slice(dot + 1);
  let base = toDCharacters(rawBase).slice(0, BASE_LENGTH);
  const extension = toDCharacters(rawExtension).slice(0, EXTENSION_LENGTH);
  if (base === "" && extension === "") base = "_";
  return { base, extension };
}

function padded(text: string, length: number): string {
  return text.padEnd(length, " ");
}

/**
 * ECMA-119 9.3 order: by file name, then extension, each compared byte by
 * byte after padding the shorter with spaces.
 */
export function comparePrimary(a: string, b: string): number {
  const [baseA = "", restA = ""] = a.split(".");
  const [baseB = "", restB = ""] = b.split(".");
  const extA = restA.replace(/;1$/, "");
  const extB = restB.replace(/;1$/, "");
  const nameWidth = Math.max(baseA.length, baseB.length);
  const byName = compareAscii(padded(baseA, nameWidth), padded(baseB, nameWidth));
  if (byName !== 0) return byName;
  const extWidth = Math.max(extA.length, extB.length);
  return compareAscii(padded(extA, extWidth), padded(extB, extWidth));
}

function compareAscii(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Validates all names and derives their spellings. Identifiers are made
 * unique deterministically: files are considered in code-unit order of their
 * real names, and a clash gets a decimal suffix in the 8-character name
 * ("USER_DAT" then "USER_DA1", "USER_DA2", ...).
 */
export function planFileNames(names: readonly string[]): FileNaming[] {
  const seen = new Set<string>();
  for (const name of names) {
    validateFileName(name);
    if (seen.has(name)) throw new Error(`Cannot build ISO: file name ${quote(name)} appears twice`);
    seen.add(name);
  }

  const jolietOwner = new Map<string, string>();
  for (const name of names) {
    const joliet = jolietName(name);
    const other = jolietOwner.get(joliet);
    if (other !== undefined) {
      throw new Error(
        `Cannot build ISO: file names ${quote(other)} and ${quote(name)} both become ${quote(joliet)} in Joliet`,
      );
    }
    jolietOwner.set(joliet, name);
  }

  const order = [...names].sort(compareJoliet);
  const taken = new Set<string>();
  const primaryOf = new Map<string, string>();
  for (const name of order) {
    const { base, extension } = primaryParts(name);
    let candidate = base;
    for (let n = 1; taken.has(`${candidate}.${extension}`); n++) {
      const suffix = String(n);
      candidate = base.slice(0, BASE_LENGTH - suffix.length) + suffix;
    }
    const key = `${candidate}.${extension}`;
    taken.add(key);
    primaryOf.set(name, `${key};1`);
  }

  return names.map((name) => ({
    name,
    primary: primaryOf.get(name) ?? "",
    joliet: jolietName(name),
  }));
}
