import { afterAll, describe, expect, test } from "bun:test";
import { lstat, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { providerContract, snapshot } from "../../tests/contracts/storage-provider.ts";
import { StorageError, type Volume } from "./provider.ts";
import { pvcProvider } from "./pvc-provider.ts";
import { contextOf, pvcFixtures, qcow2Header, TempDirs } from "../../tests/lib/storage.ts";

providerContract("persistentVolumeClaim (filesystem mode)", pvcProvider, pvcFixtures(new TempDirs()), { formatCheck: "magic" });

const MiB = 1024 * 1024;
const dirs = new TempDirs();
afterAll(() => dirs.dispose());

async function claim(): Promise<{ root: string; stateDir: string; claimDir: string }> {
  const root = await dirs.make();
  const stateDir = join(root, "state");
  const claimDir = join(root, "claims", "data");
  await mkdir(stateDir, { recursive: true });
  await mkdir(claimDir, { recursive: true });
  return { root, stateDir, claimDir };
}

const vol = (readOnly?: boolean): Volume => ({ name: "datadisk", persistentVolumeClaim: { claimName: "data", ...(readOnly !== undefined ? { readOnly } : {}) } });

describe("persistentVolumeClaim", () => {
  test("creates a sparse raw disk.img at the claim's capacity, aligned down to whole MiB", async () => {
    const c = await claim();
    const r = await pvcProvider().prepare(vol(), contextOf({ stateDir: c.stateDir, claims: { data: { path: c.claimDir, capacity: 100 * MiB + 12345 } } }));
    expect(r).toEqual({ name: "datadisk", kind: "persistentVolumeClaim", path: join(c.claimDir, "disk.img"), format: "raw", readOnly: false, block: false });
    const s = await lstat(r.path);
    expect(s.size).toBe(100 * MiB);
    expect(s.blocks * 512).toBeLessThan(MiB); // sparse
  });

  test("never overwrites an existing disk.img, whatever capacity is given", async () => {
    const c = await claim();
    await writeFile(join(c.claimDir, "disk.img"), "guest data");
    const r = await pvcProvider().prepare(vol(), contextOf({ stateDir: c.stateDir, claims: { data: { path: c.claimDir, capacity: 10 * MiB } } }));
    expect(r.format).toBe("raw");
    expect(await readFile(r.path, "utf8")).toBe("guest data");
  });

  test("detects qcow2 by content, not by name", async () => {
    const c = await claim();
    await writeFile(join(c.claimDir, "disk.img"), qcow2Header(MiB));
    const r = await pvcProvider().prepare(vol(), contextOf({ stateDir: c.stateDir, claims: { data: { path: c.claimDir } } }));
    expect(r.format).toBe("qcow2");
  });

  test("refuses a qcow2 disk.img with a backing file (it would open a path outside the claim)", async () => {
    const c = await claim();
    await writeFile(join(c.claimDir, "disk.img"), qcow2Header(MiB, "/etc/shadow"));
    const error = await pvcProvider().prepare(vol(), contextOf({ stateDir: c.stateDir, claims: { data: { path: c.claimDir } } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe("unsafe");
    expect((error as Error).message).toContain('with the backing file "/etc/shadow"');
  });

  test("follows a symlink that stays inside the claim, and returns the real path", async () => {
    const c = await claim();
    await mkdir(join(c.claimDir, "images"));
    await writeFile(join(c.claimDir, "images", "vm.raw"), new Uint8Array(MiB));
    await symlink("images/vm.raw", join(c.claimDir, "disk.img"));
    const r = await pvcProvider().prepare(vol(), contextOf({ stateDir: c.stateDir, claims: { data: { path: c.claimDir } } }));
    expect(r.path).toBe(join(c.claimDir, "images", "vm.raw"));
  });

  test("refuses disk.img symlinks out of the claim (GHSA-qw6q-3pgr-5cwq), relative or dangling too, creating nothing", async () => {
    for (const target of ["/etc/passwd", "../../state/x", "/nonexistent/disk"]) {
      const c = await claim();
      await writeFile(join(c.stateDir, "x"), "outside");
      await symlink(target, join(c.claimDir, "disk.img"));
      const before = await snapshot([c.root]);
      const error = await pvcProvider().prepare(vol(), contextOf({ stateDir: c.stateDir, claims: { data: { path: c.claimDir, capacity: MiB } } })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe("unsafe");
      expect((error as Error).message).toContain(`"${join(c.claimDir, "disk.img")}" is a symlink to "${target}"`);
      expect(await snapshot([c.root])).toEqual(before);
    }
  });

  test("a disk.img that is a directory is refused", async () => {
    const c = await claim();
    await mkdir(join(c.claimDir, "disk.img"));
    const e1 = await pvcProvider().prepare(vol(), contextOf({ stateDir: c.stateDir, claims: { data: { path: c.claimDir } } })).catch((e: unknown) => e);
    expect((e1 as Error).message).toContain("is not a regular file");
  });

  test("a claim mount that is a plain file is neither mode", async () => {
    const c = await claim();
    await writeFile(join(c.root, "file"), "x");
    const e = await pvcProvider().check(vol(), contextOf({ stateDir: c.stateDir, claims: { data: { path: join(c.root, "file") } } })).catch((x: unknown) => x);
    expect((e as Error).message).toContain("is neither a directory nor a block device");
  });

  test("a read-only claim is prepared read-only; cleanup never touches the claim", async () => {
    const c = await claim();
    await writeFile(join(c.claimDir, "disk.img"), new Uint8Array(MiB));
    const ctx = contextOf({ stateDir: c.stateDir, claims: { data: { path: c.claimDir } } });
    const r = await pvcProvider().prepare(vol(true), ctx);
    expect(r.readOnly).toBe(true);
    expect(await pvcProvider().cleanup(vol(true), ctx)).toEqual([]);
    expect((await lstat(r.path)).size).toBe(MiB);
  });

  test("the error for an unmounted claim lists the claims that are mounted", async () => {
    const c = await claim();
    const e = await pvcProvider().check(vol(), contextOf({ stateDir: c.stateDir, claims: { other: { path: c.claimDir } } })).catch((x: unknown) => x);
    expect((e as Error).message).toBe('Cannot prepare volume "datadisk": claim "data" is not mounted in this pod (mounted claims: "other")');
  });
});
