/** A small Prometheus registry: counters and gauges with labels, rendered in the text exposition format. */

type Labels = Record<string, string>;

interface Family {
  help: string;
  type: "counter" | "gauge";
  values: Map<string, { labels: Labels; value: number }>;
}

const escapeLabel = (s: string): string => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

function key(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(",");
}

export class Metrics {
  readonly #families = new Map<string, Family>();

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

  render(): string {
    const lines: string[] = [];
    for (const [name, f] of this.#families) {
      lines.push(`# HELP ${name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${f.type}`);
      for (const [k, { value }] of f.values) lines.push(`${name}${k === "" ? "" : `{${k}}`} ${value}`);
    }
    return lines.join("\n") + "\n";
  }
}
