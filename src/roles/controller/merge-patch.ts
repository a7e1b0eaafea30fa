/**
 * The JSON merge patch (RFC 7386) that turns `from` into `to`: changed or
 * new keys with their new value, removed keys as null, nested objects
 * diffed key by key, arrays replaced whole. Null when nothing changed (no
 * write needed). Values that are themselves null cannot be said in a merge
 * patch; the controller's objects hold none.
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function mergePatch(from: unknown, to: unknown): Record<string, unknown> | null {
  if (!isObject(from) || !isObject(to)) throw new Error("Cannot diff for a merge patch: both sides must be objects");
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(from)) if (!(key in to) || to[key] === undefined) if (from[key] !== undefined) out[key] = null;
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined) continue;
    const old = from[key];
    if (isObject(old) && isObject(value)) {
      const inner = mergePatch(old, value);
      if (inner !== null) out[key] = inner;
    } else if (!Bun.deepEquals(old, value)) {
      out[key] = value as Json;
    }
  }
  return Object.keys(out).length === 0 ? null : out;
}
