/**
 * Readiness as a set of named conditions; the role is ready when all hold.
 * Each condition carries the reason it does not hold, which /readyz reports.
 */
export class Readiness {
  readonly #failing = new Map<string, string>();

  constructor(initial: Record<string, string> = {}) {
    for (const [name, reason] of Object.entries(initial)) this.#failing.set(name, reason);
  }

  /** Marks a condition as holding. */
  pass(name: string): void {
    this.#failing.delete(name);
  }

  /** Marks a condition as not holding, with the reason. */
  fail(name: string, reason: string): void {
    this.#failing.set(name, reason);
  }

  get ready(): boolean {
    return this.#failing.size === 0;
  }

  /** Whether every condition but the excluded ones holds (`/readyz?exclude=NAME`, as Kubernetes components answer). */
  readyExcept(excluded: ReadonlySet<string>): boolean {
    return [...this.#failing.keys()].every((name) => excluded.has(name));
  }

  reasons(excluded: ReadonlySet<string> = new Set()): string[] {
    return [...this.#failing].filter(([name]) => !excluded.has(name)).map(([name, reason]) => `${name}: ${reason}`);
  }
}
