import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertUnder, PathEscapeError, pathUnder } from "./contained.ts";

describe("pathUnder", () => {
  test("joins single segments under the root", () => {
    expect(pathUnder("/var/lib/bunvirt/run", "default_myvm")).toBe("/var/lib/bunvirt/run/default_myvm");
    expect(pathUnder("/s", "root.containerdisk.qcow2")).toBe("/s/root.containerdisk.qcow2");
    expect(pathUnder("/s/", "a", "b")).toBe("/s/a/b");
  });

  for (const name of ["a/../../../../../some/dir", "..", ".", "", "a/b", "/etc", "a\0b", "x".repeat(256)]) {
    test(`refuses ${JSON.stringify(name.slice(0, 30))}`, () => {
      expect(() => pathUnder("/var/lib/bunvirt/run", name)).toThrow(PathEscapeError);
      expect(() => pathUnder("/var/lib/bunvirt/run", name)).toThrow(/^Cannot use ".*" under "\/var\/lib\/bunvirt\/run": /);
    });
  }
});

describe("assertUnder", () => {
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-paths-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "root");
  const outside = join(dir, "outside");
  mkdirSync(join(root, "sub"), { recursive: true });
  mkdirSync(outside);
  symlinkSync(outside, join(root, "link"));

  test("a path below the root, there or not yet, passes", () => {
    expect(() => assertUnder(root, join(root, "sub"))).not.toThrow();
    expect(() => assertUnder(root, join(root, "sub", "new", "deeper"))).not.toThrow();
  });

  test("a path through a symlink out of the root is refused", () => {
    expect(() => assertUnder(root, join(root, "link", "x"))).toThrow(/is a symlink/);
    expect(() => assertUnder(root, join(root, "link"))).toThrow(/is a symlink/);
  });

  test("a path not below the root is refused", () => {
    expect(() => assertUnder(root, outside)).toThrow(/not below/);
    expect(() => assertUnder(root, join(root, "..", "outside"))).toThrow(/not below/);
  });
});
