import { expect, test } from "bun:test";
import { wait } from "./wait.ts";

test("wake ends a wait that would otherwise last an hour", async () => {
  const w = wait(3_600_000);
  w.wake();
  w.wake();
  expect(await w.done).toBeUndefined();
});

test("a wait ends by itself when its time is up", async () => {
  expect(await wait(1).done).toBeUndefined();
});
