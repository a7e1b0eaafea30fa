import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeUnder } from "./remove-under.ts";

const dir = mkdtempSync(join(tmpdir(), "bunvirt-remove-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = join(dir, "root");
const canary = join(dir, "canary");
mkdirSync(root);
mkdirSync(canary);
writeFileSync(join(canary, "keep"), "keep");

test("removes a directory tree below the root", async () => {
  mkdirSync(join(root, "vm", "volumes"), { recursive: true });
  writeFileSync(join(root, "vm", "volumes", "disk"), "x");
  expect(await removeUnder(root, join(root, "vm"))).toBe(true);
  expect(existsSync(join(root, "vm"))).toBe(false);
  expect(await removeUnder(root, join(root, "vm"))).toBe(false);
});

test("never removes the root itself, nor anything outside it", async () => {
  await expect(removeUnder(root, root)).rejects.toThrow(/never removed through its own root/);
  await expect(removeUnder(root, canary)).rejects.toThrow(/not below/);
  await expect(removeUnder(root, join(root, "a", "..", "..", "canary"))).rejects.toThrow(/not below/);
  expect(readdirSync(canary)).toEqual(["keep"]);
});

test("a path through a symlink is refused; a symlink itself is removed, its target untouched", async () => {
  symlinkSync(canary, join(root, "evil"));
  await expect(removeUnder(root, join(root, "evil", "keep"))).rejects.toThrow(/is a symlink/);
  expect(readdirSync(canary)).toEqual(["keep"]);
  expect(await removeUnder(root, join(root, "evil"))).toBe(true);
  expect(readdirSync(root)).not.toContain("evil");
  expect(readdirSync(canary)).toEqual(["keep"]);
});

test("a directory holding a symlink out is removed without following it", async () => {
  mkdirSync(join(root, "vm2"));
  symlinkSync(canary, join(root, "vm2", "out"));
  expect(await removeUnder(root, join(root, "vm2"))).toBe(true);
  expect(readdirSync(canary)).toEqual(["keep"]);
});
