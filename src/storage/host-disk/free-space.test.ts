import { expect, test } from "bun:test";
import { reserveBytes, sizeToCreate } from "./free-space.ts";

const GiB = 1024 ** 3;

test("a capacity that fits is made as asked", () => {
  expect(sizeToCreate(GiB, 10 * GiB)).toEqual({ ok: true, bytes: GiB, shrunk: false });
  expect(sizeToCreate(GiB, GiB + reserveBytes)).toEqual({ ok: true, bytes: GiB, shrunk: false });
});

test("up to 10% short: the file is made the size of the free space, in whole sectors, and said to be smaller", () => {
  const free = Math.floor(0.95 * GiB) + 300;
  const r = sizeToCreate(GiB, free);
  expect(r).toEqual({ ok: true, bytes: Math.floor((free - reserveBytes) / 512) * 512, shrunk: true });
});

test("more than 10% short, or nothing free, is refused with the figures", () => {
  const r = sizeToCreate(GiB, Math.floor(0.8 * GiB));
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.reason).toBe(`the capacity of ${GiB} bytes is more than the ${Math.floor(0.8 * GiB) - reserveBytes} bytes free in its directory (after ${reserveBytes} bytes kept in reserve), even with 10% tolerated`);
  expect(sizeToCreate(512, 0).ok).toBe(false);
  expect(sizeToCreate(2 ** 51, 50 * GiB).ok).toBe(false);
});
