import { expect, test } from "bun:test";
import { allowedDirFor, hostDiskDirProblem, notAllowedRule, parseHostDiskDirs } from "./host-disk-dirs.ts";

test("allowed directories: absolute, plain, not /; a comma-separated setting or repeated flags, deduplicated", () => {
  expect(parseHostDiskDirs(["/srv/vms, /data/disks", "/srv/vms", ""], "--host-disk-dir")).toEqual(["/srv/vms", "/data/disks"]);
  expect(parseHostDiskDirs([], "x")).toEqual([]);
  expect(() => parseHostDiskDirs(["/"], "host-disk-dirs")).toThrow('Cannot use host-disk-dirs: "/" would allow every file of the node');
  expect(() => parseHostDiskDirs(["srv"], "host-disk-dirs")).toThrow('"srv" must be an absolute path');
  expect(hostDiskDirProblem("/srv/../etc")).toBe('"/srv/../etc" must be written in its plain form ("/etc")');
  expect(hostDiskDirProblem("/srv/vms/")).toBe('"/srv/vms/" must be written in its plain form ("/srv/vms")');
});

test("a path is allowed strictly below a directory, the deepest when they nest; a sibling with the same prefix is not", () => {
  const dirs = ["/srv/vms", "/srv/vms/alice"];
  expect(allowedDirFor("/srv/vms/a.img", dirs)).toBe("/srv/vms");
  expect(allowedDirFor("/srv/vms/alice/a.img", dirs)).toBe("/srv/vms/alice");
  expect(allowedDirFor("/srv/vms", dirs)).toBeNull();
  expect(allowedDirFor("/srv/vms2/a.img", dirs)).toBeNull();
  expect(allowedDirFor("/etc/shadow", [])).toBeNull();
});

test("the refusal says why and how to allow it", () => {
  expect(notAllowedRule("/etc/x.img", [])).toStartWith('"/etc/x.img" is not below a directory allowed for host disks (hostDisk is off: no directory is allowed); allow its directory with the setting host-disk-dirs');
  expect(notAllowedRule("/etc/x.img", ["/srv/vms"])).toContain('(allowed: "/srv/vms")');
});
