import { joinPath, type Problem } from "../problem.ts";

/**
 * The first character XML 1.0 cannot carry: a C0 control other than tab,
 * LF and CR, U+FFFE, U+FFFF, or a surrogate without its pair. Null when
 * there is none.
 */
export function firstNonXmlChar(s: string): { index: number; code: string } | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let bad = false;
    if (c < 0x20) bad = c !== 0x09 && c !== 0x0a && c !== 0x0d;
    else if (c === 0xfffe || c === 0xffff) bad = true;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else bad = true;
    } else if (c >= 0xdc00 && c <= 0xdfff) bad = true;
    if (bad) return { index: i, code: `U+${c.toString(16).toUpperCase().padStart(4, "0")}` };
  }
  return null;
}

const ruleFor = (what: string, hit: { index: number; code: string }): string =>
  `${what} contains ${hit.code} at character ${hit.index + 1}, which XML cannot carry (control characters other than tab, LF and CR, U+FFFE, U+FFFF, unpaired surrogates)`;

/**
 * Every string in a manifest tree, and every map key, must be text XML can
 * carry: any of them may end up in the domain XML (names, serials, model
 * strings, kernel arguments, UUIDs) or in a cloud-init document.
 */
export function checkXmlChars(value: unknown, at: string): Problem[] {
  const out: Problem[] = [];
  const visit = (x: unknown, path: string): void => {
    if (typeof x === "string") {
      const hit = firstNonXmlChar(x);
      if (hit !== null) out.push({ path, rule: ruleFor("the value", hit) });
    } else if (Array.isArray(x)) {
      x.forEach((item, i) => visit(item, joinPath(path, i)));
    } else if (x !== null && typeof x === "object") {
      for (const [k, item] of Object.entries(x)) {
        // Annotations are free text that never reaches the domain (Kubernetes lets them hold anything).
        if (k === "annotations" && /(^|\.)metadata$/.test(path)) continue;
        const hit = firstNonXmlChar(k);
        if (hit !== null) out.push({ path, rule: ruleFor("a key", hit) });
        else visit(item, joinPath(path, k));
      }
    }
  };
  visit(value, at);
  return out;
}
