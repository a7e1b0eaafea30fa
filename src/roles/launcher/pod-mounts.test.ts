import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { podHostDiskRoots, podMounts } from "./pod-mounts.ts";

const root = mkdtempSync(join(tmpdir(), "pod-mounts-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("each mounted claim and Secret directory by name; none when the dirs are absent", () => {
  mkdirSync(join(root, "claims/data"), { recursive: true });
  mkdirSync(join(root, "secrets/ssh-key"), { recursive: true });
  expect(podMounts({ claims: join(root, "claims"), secrets: join(root, "secrets") })).toEqual({
    claims: { data: { path: join(root, "claims/data") } },
    secrets: { "ssh-key": join(root, "secrets/ssh-key") },
  });
  expect(podMounts({ claims: join(root, "none"), secrets: join(root, "none") })).toEqual({ claims: {}, secrets: {} });
});

test("each host-disk mount by the node directory its name encodes; names that decode to no allowed directory are left out", () => {
  for (const n of ["%2Fsrv%2Fvms", "%2F", "relative", "%E0%A4%A"]) mkdirSync(join(root, "host-disks", n), { recursive: true });
  expect(podHostDiskRoots(join(root, "host-disks"))).toEqual([{ dir: "/srv/vms", at: join(root, "host-disks", "%2Fsrv%2Fvms") }]);
  expect(podHostDiskRoots(join(root, "none"))).toEqual([]);
});
