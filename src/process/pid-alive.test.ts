import { expect, test } from "bun:test";
import { pidAlive } from "./pid-alive.ts";

test("this process is alive, PID 1 too (EPERM or not), a pid past the kernel's maximum is not", () => {
  expect(pidAlive(process.pid)).toBe(true);
  expect(pidAlive(1)).toBe(true);
  expect(pidAlive(2 ** 22 + 1)).toBe(false);
});
