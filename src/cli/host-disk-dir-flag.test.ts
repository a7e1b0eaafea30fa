import { expect, test } from "bun:test";
import { hostDiskRootsFlag } from "./host-disk-dir-flag.ts";
import { UsageError } from "./usage.ts";

test("--host-disk-dir: each directory is reached at its own path; none by default", () => {
  expect(hostDiskRootsFlag(undefined)).toEqual([]);
  expect(hostDiskRootsFlag(["/srv/vms", "/data/disks,/srv/vms"])).toEqual([{ dir: "/srv/vms", at: "/srv/vms" }, { dir: "/data/disks", at: "/data/disks" }]);
});

test("a relative, unnormalized or root directory is a usage error naming the flag", () => {
  expect(() => hostDiskRootsFlag(["vms"])).toThrow(UsageError);
  expect(() => hostDiskRootsFlag(["/"])).toThrow('Cannot use --host-disk-dir: "/" would allow every file of the node');
  expect(() => hostDiskRootsFlag(["/srv/../etc"])).toThrow('must be written in its plain form ("/etc")');
});

test("the controller's host-disk-dirs: a comma-separated list, none when unset or empty", async () => {
  const { hostDiskDirsFlag } = await import("./host-disk-dir-flag.ts");
  expect(hostDiskDirsFlag(undefined)).toEqual([]);
  expect(hostDiskDirsFlag("")).toEqual([]);
  expect(hostDiskDirsFlag("/srv/vms,/data/disks")).toEqual(["/srv/vms", "/data/disks"]);
  expect(() => hostDiskDirsFlag("/srv/vms,/")).toThrow(UsageError);
});
