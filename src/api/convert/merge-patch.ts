/**
 * JSON merge patches (RFC 7386) with one extension: `diff(a, b)` gives the
 * patch that turns a into b, `apply(a, patch)` carries it out. The converter
 * keeps what one API version cannot say in such a patch, so a round trip
 * loses nothing.
 *
 * Extension: two lists of objects with the same unique `name`s in the same
 * order are patched element by element, as `{ "$named": { name: patch } }`,
 * rather than replaced whole. So a patch kept in an annotation still applies
 * sensibly after someone adds or removes a disk in the other version: an
 * element that is gone is skipped, a new one is left alone.
 * Values must be JSON without nulls (manifests are).
 */

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

const named = "$named";

const isObject = (x: unknown): x is Record<string, Json> => typeof x === "object" && x !== null && !Array.isArray(x);

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

function names(list: Json[]): string[] | null {
  const out: string[] = [];
  for (const x of list) {
    if (!isObject(x) || typeof x.name !== "string") return null;
    out.push(x.name);
  }
  return new Set(out).size === out.length ? out : null;
}

/** The patch turning `from` into `to`; undefined when they are equal. */
export function diff(from: Json, to: Json): Json | undefined {
  if (deepEqual(from, to)) return undefined;
  if (Array.isArray(from) && Array.isArray(to)) {
    const a = names(from);
    const b = names(to);
    if (a === null || b === null || !deepEqual(a, b)) return to;
    const byName: Record<string, Json> = {};
    from.forEach((x, i) => {
      const sub = diff(x, to[i]!);
      if (sub !== undefined) byName[b[i]!] = sub;
    });
    return { [named]: byName };
  }
  if (!isObject(from) || !isObject(to)) return to;
  const patch: Record<string, Json> = {};
  for (const k of Object.keys(to)) {
    const sub = k in from ? diff(from[k]!, to[k]!) : to[k]!;
    if (sub !== undefined) patch[k] = sub;
  }
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  return patch;
}

export function apply(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const byName = patch[named];
  if (Array.isArray(target) && isObject(byName) && Object.keys(patch).length === 1) {
    return target.map((x) => (isObject(x) && typeof x.name === "string" && x.name in byName ? apply(x, byName[x.name]!) : x));
  }
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = apply(out[k], v);
  }
  return out;
}
