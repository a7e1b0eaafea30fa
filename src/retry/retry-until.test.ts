import { expect, test } from "bun:test";
import { retryUntil } from "./retry-until.ts";

const fast = { initialMs: 1, factor: 1, maxMs: 1, jitter: 0 };

test("retries after each failure with the attempt number, and stops once an attempt succeeds", async () => {
  const seen: number[] = [];
  const failures: string[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  retryUntil(
    (n) => {
      seen.push(n);
      if (n < 2) throw new Error(`no ${n}`);
      done();
    },
    (e, n) => failures.push(`${n}: ${e.message}`),
    fast,
  );
  await finished;
  await Bun.sleep(10);
  expect(seen).toEqual([0, 1, 2]);
  expect(failures).toEqual(["0: no 0", "1: no 1"]);
});

test("stop() ends the retries: no attempt starts after it, and a failure after it is not reported", async () => {
  let attempts = 0;
  const failures: number[] = [];
  const r = retryUntil(
    async (_n, retrying) => {
      attempts++;
      await Bun.sleep(5);
      retrying.stop();
      throw new Error("late");
    },
    (_e, n) => failures.push(n),
    fast,
  );
  await Bun.sleep(30);
  expect(r.stopped).toBe(true);
  expect(attempts).toBe(1);
  expect(failures).toEqual([]);
});
