/**
 * Kubernetes resource quantities ("64M", "1Gi", "500m", "1e3", 2).
 * Parsed to a plain number in base units (bytes for memory, cores for cpu).
 */

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = { m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A quantity's text form; the CRD states it as the field's pattern. */
export const quantityPattern = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

export type Quantity = string | number;

/** Returns the quantity's value in base units, or null when it is not a quantity or not a finite number. */
export function parseQuantity(q: Quantity): number | null {
  if (typeof q === "number") return Number.isFinite(q) ? q : null;
  const m = quantityPattern.exec(q.trim() === q ? q : "");
  if (!m) return null;
  const [, num, suffix, exponent] = m;
  const base = Number(num);
  if (!Number.isFinite(base)) return null;
  let value: number;
  if (exponent !== undefined) value = base * 10 ** Number(exponent);
  else if (suffix === undefined) value = base;
  else {
    const factor = binary[suffix] ?? decimal[suffix];
    if (factor === undefined) return null;
    value = base * factor;
  }
  // "1e400" or "1e308Ei" would be Infinity: not a size anything can have.
  return Number.isFinite(value) ? value : null;
}

export function isQuantity(q: unknown): q is Quantity {
  return (typeof q === "string" || typeof q === "number") && parseQuantity(q) !== null;
}

/** Bytes of a memory quantity, rounded up to whole bytes. */
export function quantityBytes(q: Quantity): number {
  const v = parseQuantity(q);
  if (v === null) throw new Error(`Cannot read quantity: "${q}" is not a Kubernetes quantity`);
  return Math.ceil(v);
}
