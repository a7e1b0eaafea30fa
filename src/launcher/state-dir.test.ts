import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canSearch, checkStateDir, firstUnsearchable, makeStateDir, supplementaryGroups, type Account } from "./state-dir.ts";

const qemu: Account = { name: "libvirt-qemu", uid: 64055, gid: 64055, groups: [108] };

describe("who may enter a directory", () => {
  test("owner, group and other bits, as the kernel decides", () => {
    expect(canSearch({ path: "/a", mode: 0o700, uid: 0, gid: 0 }, qemu)).toBe(false);
    expect(canSearch({ path: "/a", mode: 0o711, uid: 0, gid: 0 }, qemu)).toBe(true);
    expect(canSearch({ path: "/a", mode: 0o750, uid: 0, gid: 108 }, qemu)).toBe(true);
    expect(canSearch({ path: "/a", mode: 0o705, uid: 0, gid: 108 }, qemu)).toBe(false);
    expect(canSearch({ path: "/a", mode: 0o077, uid: 64055, gid: 0 }, qemu)).toBe(false);
    expect(canSearch({ path: "/a", mode: 0o700, uid: 0, gid: 0 }, { ...qemu, uid: 0 })).toBe(true);
  });

  test("the first directory on the way that denies entry", () => {
    const chain = [
      { path: "/", mode: 0o755, uid: 0, gid: 0 },
      { path: "/tmp", mode: 0o1777, uid: 0, gid: 0 },
      { path: "/tmp/p", mode: 0o700, uid: 0, gid: 0 },
      { path: "/tmp/p/q", mode: 0o755, uid: 0, gid: 0 },
    ];
    expect(firstUnsearchable(chain, qemu)?.path).toBe("/tmp/p");
    expect(firstUnsearchable(chain.slice(0, 2), qemu)).toBeNull();
  });

  test("supplementary groups from /etc/group", () => {
    expect(supplementaryGroups("kvm:x:108:libvirt-qemu,other\ndisk:x:6:\nfoo:x:9:bar", "libvirt-qemu")).toEqual([108]);
  });
});

describe("checkStateDir", () => {
  const dir = mkdtempSync(join(tmpdir(), "bunvirt-statedir-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a symlink is refused, naming its target", () => {
    mkdirSync(join(dir, "real"));
    symlinkSync(join(dir, "real"), join(dir, "link"));
    expect(() => checkStateDir(join(dir, "link"))).toThrow(/^Cannot use state directory ".*link": it is a symlink \(to ".*real"\)/);
  });

  test("a parent the account cannot enter is refused before anything exists below it", () => {
    const closed = join(dir, "closed");
    mkdirSync(closed, { mode: 0o700 });
    chmodSync(closed, 0o700);
    const other: Account = { name: "libvirt-qemu", uid: 64055, gid: 64055, groups: [] };
    // mkdtemp made `dir` 0700 too: open it so that `closed` is the first to deny.
    chmodSync(dir, 0o755);
    expect(() => checkStateDir(join(closed, "vm", "state"), other)).toThrow(/cannot enter ".*closed" \(mode 0700/);
    chmodSync(closed, 0o711);
    expect(() => checkStateDir(join(closed, "vm", "state"), other)).not.toThrow();
  });

  test("makeStateDir creates 0755 directories whatever the umask", () => {
    const old = process.umask(0o077);
    try {
      const first = makeStateDir(join(dir, "made", "a", "b"));
      expect(first).toBe(join(dir, "made"));
      for (const p of ["made", "made/a", "made/a/b"]) expect(statSync(join(dir, p)).mode & 0o777).toBe(0o755);
      expect(makeStateDir(join(dir, "made", "a", "b"))).toBeNull();
    } finally {
      process.umask(old);
    }
  });
});
