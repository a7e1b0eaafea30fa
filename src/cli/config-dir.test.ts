import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { changedKeys, configFlags, readConfigDir, withConfigFlags } from "./config-dir.ts";
import { UsageError } from "./usage.ts";

const root = mkdtempSync(join(tmpdir(), "config-dir-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A dir laid out as the kubelet mounts a ConfigMap: KEY -> ..data/KEY, ..data -> ..TIMESTAMP. */
function configMapDir(data: Record<string, string>): string {
  const dir = mkdtempSync(join(root, "cm-"));
  const stamp = "..2026_12_02_15_00_00.1";
  mkdirSync(join(dir, stamp));
  for (const [k, v] of Object.entries(data)) writeFileSync(join(dir, stamp, k), v);
  symlinkSync(stamp, join(dir, "..data"));
  for (const k of Object.keys(data)) symlinkSync(join("..data", k), join(dir, k));
  return dir;
}

test("reads a mounted ConfigMap through its symlinks and skips the dotfiles", () => {
  const dir = configMapDir({ registry: "10.250.0.1:5000\n", "log-level": "debug" });
  expect(readConfigDir(dir)).toEqual({ "log-level": "debug", registry: "10.250.0.1:5000" });
});

test("an update swaps ..data: the new values are read", () => {
  const dir = configMapDir({ registry: "a:1" });
  const next = "..2026_12_02_15_05_00.2";
  mkdirSync(join(dir, next));
  writeFileSync(join(dir, next, "registry"), "b:2");
  symlinkSync(next, join(dir, "..data_tmp"));
  renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
  expect(readConfigDir(dir)).toEqual({ registry: "b:2" });
});

test("a missing dir is an error naming it", () => {
  expect(() => readConfigDir(join(root, "nope"))).toThrow(/Cannot read the settings in ".*nope"/);
});

test("keys become flags; emulation is a boolean", () => {
  expect(configFlags({ emulation: "true", "insecure-registry": "r:5000,s:5000", "log-format": "json" }, "/d")).toEqual({
    emulation: true, "insecure-registry": "r:5000,s:5000", "log-format": "json",
  });
  expect(configFlags({ emulation: "false" }, "/d")).toEqual({ emulation: false });
});

test("an unknown key is a usage error naming the key", () => {
  expect(() => configFlags({ registery: "x" }, "/etc/bunvirt/config")).toThrow(UsageError);
  expect(() => configFlags({ registery: "x" }, "/etc/bunvirt/config")).toThrow(/unknown key "registery"/);
  expect(() => configFlags({ emulation: "yes" }, "/d")).toThrow(/"emulation" must be "true" or "false", not "yes"/);
});

test("a flag on the command line wins over the dir", () => {
  expect(withConfigFlags<Record<string, unknown>>({ registry: "cli:1", "log-level": undefined }, { registry: "dir:1", "log-level": "debug", emulation: true }))
    .toEqual({ registry: "cli:1", "log-level": "debug", emulation: true });
});

test("changed keys: added, removed, changed; ignored ones left out", () => {
  expect(changedKeys({ a: "1", b: "2", c: "3" }, { a: "1", b: "x", d: "4" })).toEqual(["b", "c", "d"]);
  expect(changedKeys({ a: "1" }, { a: "1" })).toEqual([]);
  expect(changedKeys({ a: "1", b: "1" }, { a: "2", b: "2" }, new Set(["a"]))).toEqual(["b"]);
});
