/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for
 * tests: every line is a HELP, a TYPE or a sample; HELP and TYPE at most once
 * per family and before its samples; a family's samples together; metric and
 * label names valid, label values with only \\ \" \n escapes, no label twice,
 * no series twice; values as Go's ParseFloat reads them; a final newline.
 * Throws with the line number on the first problem; returns the samples.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** Family name -> TYPE. */
  types: Map<string, string>;
  help: Map<string, string>;
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const floatText = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Inf|NaN)$/;
const types = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** Histogram/summary samples belong to the family without these suffixes. */
function familyOf(name: string, known: Map<string, string>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const t = known.get(base);
      if (t === "histogram" || t === "summary") return base;
    }
  }
  return name;
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error(`${where}: a label without "="`);
    const name = text.slice(i, eq).trim();
    if (!labelName.test(name)) throw new Error(`${where}: "${name}" is not a label name`);
    if (name in labels) throw new Error(`${where}: label "${name}" twice`);
    if (text[eq + 1] !== '"') throw new Error(`${where}: the value of "${name}" is not quoted`);
    let value = "";
    let j = eq + 2;
    for (;; j++) {
      if (j >= text.length) throw new Error(`${where}: the value of "${name}" is not closed`);
      const c = text[j]!;
      if (c === "\\") {
        const n = text[j + 1];
        if (n === "\\") value += "\\";
        else if (n === '"') value += '"';
        else if (n === "n") value += "\n";
        else throw new Error(`${where}: "\\${n ?? ""}" is not an escape the format knows`);
        j++;
      } else if (c === '"') break;
      else if (c === "\n") throw new Error(`${where}: a raw newline in a label value`);
      else value += c;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (i < text.length) throw new Error(`${where}: expected "," after the value of "${name}"`);
  }
  return labels;
}

export function parseExposition(text: string): Exposition {
  if (!text.endsWith("\n")) throw new Error("the exposition does not end with a newline");
  const out: Exposition = { samples: [], types: new Map(), help: new Map() };
  const seen = new Set<string>();
  const done = new Set<string>();
  let current: string | null = null;
  const enter = (family: string, where: string): void => {
    if (family === current) return;
    if (done.has(family)) throw new Error(`${where}: family "${family}" appears again after another family`);
    if (current !== null) done.add(current);
    current = family;
  };
  text.slice(0, -1).split("\n").forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (line === "") throw new Error(`${where}: an empty line`);
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (m === null) return; // another comment
      const [, kind, name, rest = ""] = m;
      if (!metricName.test(name!)) throw new Error(`${where}: "${name}" is not a metric name`);
      enter(name!, where);
      const map = kind === "HELP" ? out.help : out.types;
      if (map.has(name!)) throw new Error(`${where}: a second ${kind} for "${name}"`);
      if (kind === "TYPE") {
        if (!types.has(rest)) throw new Error(`${where}: "${rest}" is not a metric type`);
        if (out.samples.some((s) => familyOf(s.name, out.types) === name)) throw new Error(`${where}: TYPE of "${name}" after its samples`);
      } else if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) {
        throw new Error(`${where}: HELP of "${name}" has an escape the format does not know`);
      }
      map.set(name!, rest);
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (m === null) throw new Error(`${where}: not a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText = "", valueText] = m;
    if (!floatText.test(valueText!)) throw new Error(`${where}: "${valueText}" is not a value`);
    enter(familyOf(name!, out.types), where);
    const labels = parseLabels(labelText, where);
    const series = `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(",")}}`;
    if (seen.has(series)) throw new Error(`${where}: series ${series} twice`);
    seen.add(series);
    const value = valueText!.endsWith("Inf") ? (valueText!.startsWith("-") ? -Infinity : Infinity) : Number(valueText);
    if (out.types.get(familyOf(name!, out.types)) === "counter" && !(value >= 0)) throw new Error(`${where}: counter ${series} is ${valueText}`);
    out.samples.push({ name: name!, labels, value });
  });
  return out;
}

/** The samples of one metric whose labels include `match`. */
export function samplesOf(e: Exposition, name: string, match: Record<string, string> = {}): Sample[] {
  return e.samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}
