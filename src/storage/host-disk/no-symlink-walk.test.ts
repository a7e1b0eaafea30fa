import { afterAll, expect, test } from "bun:test";
import { closeSync } from "node:fs";
import { mkdir, rename, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TempDirs } from "../../../tests/lib/storage.ts";
import { fdName, lookAtIn, openDirNoSymlinks, WalkError } from "./no-symlink-walk.ts";

const dirs = new TempDirs();
afterAll(() => dirs.dispose());

async function tree(): Promise<string> {
  const root = await dirs.make("bunvirt-walk-");
  await mkdir(join(root, "a", "b"), { recursive: true });
  await mkdir(join(root, "elsewhere"));
  await writeFile(join(root, "a", "file"), "x");
  await symlink(join(root, "elsewhere"), join(root, "a", "link"));
  return root;
}

function walkError(f: () => unknown): WalkError {
  try {
    f();
  } catch (e) {
    if (e instanceof WalkError) return e;
    throw e;
  }
  throw new Error("no error");
}

test("a directory below the root is opened, and what is in it looked at without opening it", async () => {
  const root = await tree();
  const fd = openDirNoSymlinks(root, ["a", "b"]);
  try {
    expect(fdName(fd)).toBe(join(root, "a", "b"));
  } finally {
    closeSync(fd);
  }
  const a = openDirNoSymlinks(root, ["a"]);
  try {
    expect(lookAtIn(a, "file")?.isFile()).toBe(true);
    expect(lookAtIn(a, "link")?.isSymbolicLink()).toBe(true);
    expect(lookAtIn(a, "none")).toBeNull();
  } finally {
    closeSync(a);
  }
});

test("a symlink, a file, or nothing on the way stop the walk, naming the place", async () => {
  const root = await tree();
  const s = walkError(() => openDirNoSymlinks(root, ["a", "link"]));
  expect([s.problem, s.message]).toEqual(["symlink", `"${join(root, "a", "link")}" is a symlink`]);
  expect(walkError(() => openDirNoSymlinks(root, ["a", "file"])).message).toBe(`"${join(root, "a", "file")}" is a regular file, not a directory`);
  expect(walkError(() => openDirNoSymlinks(root, ["a", "none"])).problem).toBe("missing");
});

test("a root reached through a symlink is refused with its real name", async () => {
  const root = await tree();
  const e = walkError(() => openDirNoSymlinks(join(root, "a", "link"), []));
  expect([e.problem, e.message]).toEqual(["elsewhere", `"${join(root, "a", "link")}" is reached through a symlink: it is "${join(root, "elsewhere")}"`]);
});

test("a directory swapped for a symlink after it was opened cannot redirect the descriptor", async () => {
  const root = await tree();
  const fd = openDirNoSymlinks(root, ["a", "b"]);
  try {
    await rename(join(root, "a", "b"), join(root, "moved"));
    await symlink(join(root, "elsewhere"), join(root, "a", "b"));
    expect(fdName(fd)).toBe(join(root, "moved"));
  } finally {
    closeSync(fd);
  }
});
