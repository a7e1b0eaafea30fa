/**
 * A small Prometheus registry: counters and gauges with labels, rendered in
 * the text exposition format (HELP and TYPE once per family, label values
 * escaped). Collectors add figures read at scrape time (a role's process,
 * the handler's VMIs) to a copy, so what vanished is gone from the next scrape.
 */

type Labels = Record<string, string>;

interface Family {
  help: string;
  type: "counter" | "gauge";
  values: Map<string, { labels: Labels; value: number }>;
}

const escapeLabel = (s: string): string => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

function key(labels: Labels): string {
  for (const k of Object.keys(labels)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k) || k.startsWith("__")) throw new Error(`Cannot record metric: "${k}" is not a valid label name`);
  }
  return Object.keys(labels).sort().map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(",");
}

/** Adds the figures it reads to `into`; a failure leaves out only its own figures. */
export type Collector = (into: Metrics) => void | Promise<void>;

/** A sample value as the text format spells it (Go's ParseFloat reads these). */
function sampleValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export class Metrics {
  readonly #families = new Map<string, Family>();
  readonly #collectors: Collector[] = [];

  #family(name: string, type: Family["type"], help: string): Family {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`Cannot register metric: "${name}" is not a valid metric name`);
    let f = this.#families.get(name);
    if (f === undefined) {
      f = { help, type, values: new Map() };
      this.#families.set(name, f);
    } else if (f.type !== type) {
      throw new Error(`Cannot register metric: "${name}" is already a ${f.type}`);
    }
    return f;
  }

  /** Adds `by` (default 1) to a counter. */
  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const f = this.#family(name, "counter", help);
    const k = key(labels);
    const cur = f.values.get(k);
    f.values.set(k, { labels, value: (cur?.value ?? 0) + by });
  }

  set(name: string, help: string, value: number, labels: Labels = {}): void {
    this.#family(name, "gauge", help).values.set(key(labels), { labels, value });
  }

  /** Sets a counter to a total read elsewhere (libvirt's, the kernel's). */
  setCounter(name: string, help: string, value: number, labels: Labels = {}): void {
    this.#family(name, "counter", help).values.set(key(labels), { labels, value });
  }

  /** Runs `collector` on every scrape(). */
  collect(collector: Collector): void {
    this.#collectors.push(collector);
  }

  /** The exposition with every collector's figures of this moment (collectors run side by side). */
  async scrape(onError: (e: Error) => void = () => undefined): Promise<string> {
    const now = new Metrics();
    for (const [name, f] of this.#families) now.#families.set(name, { ...f, values: new Map(f.values) });
    await Promise.all(this.#collectors.map(async (c) => {
      try {
        await c(now);
      } catch (e) {
        onError(e as Error);
      }
    }));
    return now.render();
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, f] of this.#families) {
      lines.push(`# HELP ${name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${f.type}`);
      for (const [k, { value }] of f.values) lines.push(`${name}${k === "" ? "" : `{${k}}`} ${sampleValue(value)}`);
    }
    return lines.join("\n") + "\n";
  }
}
