import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeLogger } from "../log/logger.ts";
import { watchConfigDir } from "./config-watch.ts";

const root = mkdtempSync(join(tmpdir(), "config-watch-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function watch(dir: string, initial: Record<string, string>, ignored: string[] = []) {
  const lines: string[] = [];
  const log = makeLogger({ role: "test", format: "text", level: "debug", write: (l) => lines.push(l) });
  let code: number | undefined;
  const stop = watchConfigDir({ log, exit: (c) => (code = c) }, { dir, initial, ignored: new Set(ignored), everyMs: 5 });
  return { lines, code: () => code, stop };
}

test("a changed key: the role logs it and exits 0", async () => {
  const dir = mkdtempSync(join(root, "d-"));
  writeFileSync(join(dir, "registry"), "a:1");
  const w = watch(dir, { registry: "a:1" });
  await Bun.sleep(30);
  expect(w.code()).toBeUndefined();
  writeFileSync(join(dir, "registry"), "b:2");
  await Bun.sleep(30);
  w.stop();
  expect(w.code()).toBe(0);
  expect(w.lines.join("\n")).toContain('changed ("registry")');
});

test("a key set on the command line is not watched", async () => {
  const dir = mkdtempSync(join(root, "d-"));
  writeFileSync(join(dir, "log-level"), "debug");
  const w = watch(dir, {}, ["log-level"]);
  await Bun.sleep(30);
  w.stop();
  expect(w.code()).toBeUndefined();
});

test("an unreadable dir is reported once and the role keeps running", async () => {
  const dir = join(root, "gone");
  const w = watch(dir, { registry: "a:1" });
  await Bun.sleep(40);
  w.stop();
  expect(w.code()).toBeUndefined();
  expect(w.lines.filter((l) => l.includes("Cannot read the settings")).length).toBe(1);
});
