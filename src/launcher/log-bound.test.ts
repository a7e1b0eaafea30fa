import { afterEach, expect, test } from "bun:test";
import { existsSync, linkSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trimLog } from "./log-bound.ts";

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), "log-bound-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("a log under the bound is left alone; a missing one is no error", () => {
  const d = tmp();
  writeFileSync(join(d, "serial0.log"), "boot\n");
  expect(trimLog(join(d, "serial0.log"), 100)).toBe(false);
  expect(readFileSync(join(d, "serial0.log"), "utf8")).toBe("boot\n");
  expect(trimLog(join(d, "none.log"), 100)).toBe(false);
});

test("a log past the bound: its last part goes to FILE.1, the file starts again and appends go on", () => {
  const d = tmp();
  const file = join(d, "serial0.log");
  writeFileSync(join(d, "serial0.log.1"), "older");
  writeFileSync(file, "a".repeat(150) + "b".repeat(100));
  expect(trimLog(file, 100)).toBe(true);
  expect(readFileSync(file, "utf8")).toBe("");
  expect(readFileSync(`${file}.1`, "utf8")).toBe("b".repeat(100));
  appendFileSync(file, "next\n");
  expect(readFileSync(file, "utf8")).toBe("next\n");
});

test("a planted symlink or hard link is refused, its target untouched", () => {
  const d = tmp();
  const target = join(d, "precious");
  writeFileSync(target, "x".repeat(500));
  symlinkSync(target, join(d, "serial0.log"));
  expect(() => trimLog(join(d, "serial0.log"), 100)).toThrow(/Cannot bound log/);
  linkSync(target, join(d, "qemu.log"));
  expect(() => trimLog(join(d, "qemu.log"), 100)).toThrow(/one link/);
  expect(readFileSync(target, "utf8")).toBe("x".repeat(500));
  expect(existsSync(join(d, "qemu.log.1"))).toBe(false);
});

test("a symlink planted as FILE.1 is replaced, not followed", () => {
  const d = tmp();
  const target = join(d, "precious");
  writeFileSync(target, "keep");
  const file = join(d, "serial0.log");
  symlinkSync(target, `${file}.1`);
  writeFileSync(file, "y".repeat(300));
  expect(trimLog(file, 100)).toBe(true);
  expect(readFileSync(target, "utf8")).toBe("keep");
  expect(readFileSync(`${file}.1`, "utf8")).toBe("y".repeat(100));
});
