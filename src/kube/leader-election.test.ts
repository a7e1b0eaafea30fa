import { expect, test } from "bun:test";
import { decide } from "./leader-election.ts";

const t0 = new Date("2026-01-01T00:00:00Z");
const later = (s: number): Date => new Date(t0.getTime() + s * 1000);

test.each([
  ["no lease", null, 0, "acquire"],
  ["empty holder", { holder: "" }, 0, "acquire"],
  ["our lease", { holder: "me", renewedAt: t0, durationSeconds: 15 }, 100, "renew"],
  ["fresh foreign lease", { holder: "other", renewedAt: t0, durationSeconds: 15 }, 10, "follow"],
  ["expired foreign lease", { holder: "other", renewedAt: t0, durationSeconds: 15 }, 16, "acquire"],
] as const)("%s", (_name, lease, after, want) => {
  expect(decide(lease, later(after), "me")).toBe(want);
});
