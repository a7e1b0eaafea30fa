import { describe, expect, test } from "bun:test";
import { diskScope, isRelated, mergeLayers, selectDisk, type LayerChange } from "./disk-selection.ts";

const file = (path: string, tempFile?: string, size = 10): LayerChange => ({
  op: "entry",
  path,
  type: "file",
  size,
  linkPath: "",
  sparse: false,
  ...(tempFile !== undefined ? { tempFile } : {}),
});
const dir = (path: string): LayerChange => ({ op: "entry", path, type: "directory", size: 0, linkPath: "", sparse: false });
const symlink = (path: string, to: string): LayerChange => ({ op: "entry", path, type: "symlink", size: 0, linkPath: to, sparse: false });
const DISK = diskScope();

describe("diskScope", () => {
  test("default is the /disk/ rule; path must be absolute, no '..', not '/'", () => {
    expect(DISK).toEqual({ kind: "dir", dir: "disk" });
    expect(diskScope("/images/./vm.img")).toEqual({ kind: "file", path: "images/vm.img" });
    expect(() => diskScope("rel/x")).toThrow('Cannot use disk path "rel/x": it must be absolute');
    expect(() => diskScope("/a/../b")).toThrow(/must not contain ".."/);
    expect(() => diskScope("/")).toThrow(/must not be "\/"/);
    expect(() => diskScope("/dir/")).toThrow(/must name a file/);
  });

  test("isRelated", () => {
    expect(isRelated("", DISK)).toBe(true);
    expect(isRelated("disk", DISK)).toBe(true);
    expect(isRelated("disk/a", DISK)).toBe(true);
    expect(isRelated("diskette", DISK)).toBe(false);
    expect(isRelated("usr/bin", DISK)).toBe(false);
  });
});

describe("selectDisk", () => {
  test("the single regular file under /disk/", () => {
    expect(selectDisk([[dir(""), dir("disk"), file("disk/d.qcow2", "/t/0")]], DISK)).toEqual({ path: "disk/d.qcow2", size: 10, tempFile: "/t/0" });
  });

  test("a whiteout in a later layer removes a second file", () => {
    const layers = [[file("disk/a.qcow2", "/t/a"), file("disk/b.img", "/t/b")], [{ op: "whiteout", path: "disk/b.img" } as const]];
    expect(selectDisk(layers, DISK).tempFile).toBe("/t/a");
  });

  test("whiteouts only hide lower layers; later layers replace files", () => {
    const layers: LayerChange[][] = [
      [file("disk/a.qcow2", "/t/a1")],
      [{ op: "whiteout", path: "disk/a.qcow2" }, file("disk/a.qcow2", "/t/a2")],
    ];
    expect(selectDisk(layers, DISK).tempFile).toBe("/t/a2");
    expect(selectDisk([[file("disk/x", "/t/x")], [file("disk/x", "/t/y")]], DISK).tempFile).toBe("/t/y");
  });

  test("opaque directory and whiteout of /disk itself", () => {
    const opaque: LayerChange[][] = [[file("disk/old", "/t/o"), file("disk/keep", "/t/k")], [{ op: "opaque", dir: "disk" }, file("disk/new", "/t/n")]];
    expect(selectDisk(opaque, DISK).tempFile).toBe("/t/n");
    const gone: LayerChange[][] = [[dir("disk"), file("disk/a", "/t/a")], [{ op: "whiteout", path: "disk" }]];
    expect(() => selectDisk(gone, DISK)).toThrow("the image has no disk: no regular file directly under /disk/ (found no /disk/ directory at all)");
  });

  test("a hard link to a kept file counts as that file", () => {
    const layers: LayerChange[][] = [
      [file("disk/a", "/t/a", 5)],
      [{ op: "whiteout", path: "disk/a" }, { op: "entry", path: "disk/b", type: "hardlink", size: 0, linkPath: "disk/a", sparse: false }],
    ];
    // Whiteouts of a layer apply before its entries, so b links to a file that is gone.
    expect(() => selectDisk(layers, DISK)).toThrow(/hard link to "\/disk\/a"/);
    const same: LayerChange[][] = [[file("disk/a", "/t/a", 5), { op: "entry", path: "disk/b", type: "hardlink", size: 0, linkPath: "disk/a", sparse: false }]];
    expect(() => selectDisk(same, DISK)).toThrow(/has 2 files/);
    expect(mergeLayers(same).get("disk/b")).toMatchObject({ type: "file", tempFile: "/t/a", size: 5 });
  });

  test("no file: says what was found", () => {
    expect(() => selectDisk([[dir("disk")]], DISK)).toThrow("(found /disk/ is empty)");
    expect(() => selectDisk([[dir("disk"), dir("disk/sub"), file("disk/sub/x"), symlink("disk/l", "/x")]], DISK)).toThrow(
      'no regular file directly under /disk/ (found only "/disk/l" (symlink to "/x"), "/disk/sub/" (directory), "/disk/sub/x" (10 bytes))',
    );
    expect(() => selectDisk([[symlink("disk", "/data")]], DISK)).toThrow('found /disk itself is "/disk" (symlink to "/data")');
  });

  test("two files: names both", () => {
    expect(() => selectDisk([[file("disk/a.qcow2", "/t/a"), file("disk/b.img", "/t/b", 20)]], DISK)).toThrow(
      'the image has 2 files directly under /disk/ ("/disk/a.qcow2" (10 bytes), "/disk/b.img" (20 bytes)); exactly one is allowed, or give the volume a path',
    );
  });

  test("with a path: that file, even among others", () => {
    const scope = diskScope("/custom/vm.img");
    expect(selectDisk([[file("custom/vm.img", "/t/v")]], scope).tempFile).toBe("/t/v");
    expect(() => selectDisk([[file("disk/x", "/t/x")]], scope)).toThrow('the image has no file at "/custom/vm.img"');
    expect(() => selectDisk([[symlink("custom/vm.img", "/x")]], scope)).toThrow('no regular file at "/custom/vm.img": found "/custom/vm.img" (symlink');
  });

  test("sparse entries are refused", () => {
    const sparse: LayerChange = { op: "entry", path: "disk/s", type: "file", size: 1, linkPath: "", sparse: true, tempFile: "/t/s" };
    expect(() => selectDisk([[sparse]], DISK)).toThrow(/GNU sparse/);
  });
});
