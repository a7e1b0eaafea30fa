/**
 * Controller expectations (client-go's ControllerExpectations, as KubeVirt
 * uses them): before creating a VMI or pod for a key, the controller records
 * that it expects to see one; until the informer cache shows it (or the
 * record expires), the key is not "satisfied" and the controller makes no
 * second one — so a slow cache never yields two VMIs or two pods. Deletions
 * are tracked by object name the same way. A create or delete the API server
 * refused is marked observed at once, since no event will come for it.
 */
import { realTimers, type Timers } from "./timers.ts";

/** client-go's ExpectationsTimeout: after this long a record no longer holds the key back. */
export const expectationsTtlMs = 5 * 60 * 1000;

interface Record_ {
  adds: number;
  deletes: Set<string>;
  at: number;
}

export class Expectations {
  readonly #records = new Map<string, Record_>();

  constructor(private readonly timers: Pick<Timers, "now"> = realTimers, private readonly ttlMs = expectationsTtlMs) {}

  expectCreations(key: string, n = 1): void {
    const r = this.#record(key);
    r.adds += n;
    r.at = this.timers.now();
  }

  creationObserved(key: string): void {
    const r = this.#records.get(key);
    if (r !== undefined && r.adds > 0) r.adds -= 1;
  }

  expectDeletions(key: string, names: readonly string[]): void {
    const r = this.#record(key);
    for (const n of names) r.deletes.add(n);
    r.at = this.timers.now();
  }

  deletionObserved(key: string, name: string): void {
    this.#records.get(key)?.deletes.delete(name);
  }

  /** What is still awaited for the key (nothing once the record expired). */
  pending(key: string): { creates: boolean; deletes: boolean } {
    const r = this.#records.get(key);
    if (r === undefined || this.timers.now() - r.at > this.ttlMs) return { creates: false, deletes: false };
    return { creates: r.adds > 0, deletes: r.deletes.size > 0 };
  }

  satisfied(key: string): boolean {
    const p = this.pending(key);
    return !p.creates && !p.deletes;
  }

  /** The object behind the key is gone: forget its record. */
  delete(key: string): void {
    this.#records.delete(key);
  }

  #record(key: string): Record_ {
    let r = this.#records.get(key);
    if (r === undefined) {
      r = { adds: 0, deletes: new Set(), at: this.timers.now() };
      this.#records.set(key, r);
    }
    return r;
  }
}
