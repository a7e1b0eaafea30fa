import { afterAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { DiskCache, cacheKey, type CacheMetadata } from "./cache.ts";
import { acquireLock } from "./cache-lock.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
async function temp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "bunvirt-cache-unit-"));
  dirs.push(d);
  return d;
}
const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("cacheKey", () => {
  test("hex of the digest, or with a path hash", () => {
    expect(cacheKey(DIGEST)).toBe("ab".repeat(32));
    expect(cacheKey(DIGEST, "custom/vm.img")).toMatch(/^(ab){32}-p[0-9a-f]{16}$/);
    expect(() => cacheKey("sha256:xyz")).toThrow(/not a sha256 digest/);
  });
});

describe("DiskCache", () => {
  test("commit publishes a whole entry; lookup checks metadata and size", async () => {
    const cache = new DiskCache(await temp());
    const key = cacheKey(DIGEST);
    expect(await cache.lookup(key)).toBeNull();
    const work = await cache.createWorkDir(key);
    await writeFile(join(work, "disk.raw"), "12345");
    const metadata: CacheMetadata = {
      version: 1,
      reference: "r/x:y",
      registry: "r",
      repository: "x",
      digest: DIGEST,
      format: "raw",
      virtualSize: 5,
      bytes: 5,
      pathInImage: "/disk/a",
      layers: [],
      pulledAt: new Date().toISOString(),
    };
    const entry = await cache.commit(key, work, metadata);
    expect(entry.path).toBe(join(cache.root, "sha256", key, "disk.raw"));
    expect((await cache.lookup(key))?.metadata.bytes).toBe(5);
    await writeFile(entry.path, "123"); // truncated: not a valid entry any more
    expect(await cache.lookup(key)).toBeNull();
    await mkdir(join(cache.root, "tmp", `${key}.1.dead`), { recursive: true });
    await cache.clearLeftovers(key);
    expect(await Bun.file(join(cache.root, "sha256", key, "metadata.json")).exists()).toBe(false);
    expect(await Bun.file(join(cache.root, "tmp", `${key}.1.dead`)).exists()).toBe(false);
  });
});

describe("DiskCache.copyFrom", () => {
  test("copies a node cache's entry under its key, a copy not a link; a second copy is a hit", async () => {
    const node = new DiskCache(await temp());
    const pod = new DiskCache(await temp());
    const key = cacheKey(DIGEST, "custom/vm.img");
    const work = await node.createWorkDir(key);
    await writeFile(join(work, "disk.qcow2"), "qcow2-bytes");
    const metadata: CacheMetadata = {
      version: 1, reference: "r/x:y", registry: "r", repository: "x", digest: DIGEST, format: "qcow2",
      virtualSize: 11, bytes: 11, pathInImage: "/custom/vm.img", layers: [], pulledAt: new Date().toISOString(),
    };
    const source = await node.commit(key, work, metadata);
    const copy = await pod.copyFrom(source);
    expect(copy.path).toBe(join(pod.root, "sha256", key, "disk.qcow2"));
    expect(await pod.lookup(key)).toEqual(copy);
    expect((await stat(copy.path)).ino).not.toBe((await stat(source.path)).ino);
    await writeFile(copy.path, "QCOW2-BYTES"); // whoever writes the copy leaves the node's disk alone
    expect(await Bun.file(source.path).text()).toBe("qcow2-bytes");
    expect((await pod.copyFrom(source)).path).toBe(copy.path);
    expect(await readdir(join(pod.root, "tmp"))).toEqual([]);
  });

  test("a source that is not the size its metadata says is refused, nothing published", async () => {
    const node = new DiskCache(await temp());
    const pod = new DiskCache(await temp());
    const key = cacheKey(DIGEST);
    const work = await node.createWorkDir(key);
    await writeFile(join(work, "disk.raw"), "12345");
    const metadata: CacheMetadata = {
      version: 1, reference: "r/x:y", registry: "r", repository: "x", digest: DIGEST, format: "raw",
      virtualSize: 5, bytes: 5, pathInImage: "/disk/a", layers: [], pulledAt: new Date().toISOString(),
    };
    const source = await node.commit(key, work, metadata);
    await writeFile(source.path, "123");
    await expect(pod.copyFrom(source)).rejects.toThrow(/is not 5 bytes/);
    expect(await pod.lookup(key)).toBeNull();
    expect(await readdir(join(pod.root, "tmp"))).toEqual([]);
  });
});

describe("DiskCache.prune", () => {
  const hour = 3600_000;
  async function entry(cache: DiskCache, digest: string): Promise<string> {
    const key = cacheKey(digest);
    const work = await cache.createWorkDir(key);
    await writeFile(join(work, "disk.raw"), "12345");
    await cache.commit(key, work, {
      version: 1, reference: "r/x:y", registry: "r", repository: "x", digest, format: "raw",
      virtualSize: 5, bytes: 5, pathInImage: "/disk/a", layers: [], pulledAt: new Date().toISOString(),
    });
    return key;
  }
  const age = async (cache: DiskCache, key: string, ms: number): Promise<void> => {
    const then = new Date(Date.now() - ms);
    await utimes(join(cache.entryDir(key), "metadata.json"), then, then);
  };

  test("entries unused for longer than asked go; used, recent and locked ones stay; incomplete ones go", async () => {
    const cache = new DiskCache(await temp());
    const [old, used, fresh, locked, broken] = await Promise.all(["a1", "b2", "c3", "d4", "e5"].map((h) => entry(cache, `sha256:${h.repeat(32)}`)));
    for (const k of [old!, used!, locked!]) await age(cache, k, 48 * hour);
    await cache.markUsed(used!);
    await rm(join(cache.entryDir(broken!), "metadata.json"));
    const held = await cache.lock(locked!);
    try {
      expect((await cache.prune(24 * hour)).sort()).toEqual([old!, broken!].sort());
    } finally {
      await held.release();
    }
    expect(await cache.lookup(old!)).toBeNull();
    for (const k of [used!, fresh!, locked!]) expect(await cache.lookup(k)).not.toBeNull();
    expect((await readdir(join(cache.root, "sha256"))).sort()).toEqual([used!, fresh!, locked!].sort());
    // The lock files of what was pruned are gone with their locks.
    expect(await readdir(join(cache.root, "locks"))).toEqual([]);
    expect(await cache.prune(24 * hour, { now: Date.now() + 72 * hour })).toHaveLength(3);
    expect(await readdir(join(cache.root, "sha256"))).toEqual([]);
  });

  test("an empty or missing cache prunes nothing", async () => {
    expect(await new DiskCache(join(await temp(), "none")).prune(0)).toEqual([]);
  });
});

describe("acquireLock", () => {
  test("a second taker waits for the release", async () => {
    const path = join(await temp(), "x.lock");
    const first = await acquireLock(path);
    let waited = "";
    let second = false;
    const pending = acquireLock(path, { pollMs: 10, onWait: (owner) => (waited = owner) }).then((l) => {
      second = true;
      return l;
    });
    await Bun.sleep(60);
    expect(second).toBe(false);
    expect(waited).toContain(`pid ${process.pid}`);
    await first.release();
    const lock = await pending;
    expect(second).toBe(true);
    await lock.release();
  });

  test("breaks a lock whose owner is dead, or that was not touched for too long", async () => {
    const dir = await temp();
    const dead = join(dir, "dead.lock");
    await writeFile(dead, JSON.stringify({ pid: 2 ** 30, host: hostname() }));
    await (await acquireLock(dead, { pollMs: 10 })).release();
    const old = join(dir, "old.lock");
    await writeFile(old, JSON.stringify({ pid: 1, host: "another-node" }));
    const past = new Date(Date.now() - 60_000);
    await utimes(old, past, past);
    await (await acquireLock(old, { pollMs: 10, staleAfterMs: 30_000 })).release();
  });

  test("an abort signal ends the wait", async () => {
    const path = join(await temp(), "y.lock");
    const held = await acquireLock(path);
    const controller = new AbortController();
    const waiting = acquireLock(path, { pollMs: 10, signal: controller.signal });
    controller.abort(new Error("stop"));
    await expect(waiting).rejects.toThrow("stop");
    await held.release();
  });

  test("sweepAbandoned clears what dead pulls left, never what a live pull holds", async () => {
    const cache = new DiskCache(await temp());
    const dead = cacheKey(`sha256:${"cd".repeat(32)}`);
    const stale = cacheKey(`sha256:${"ef".repeat(32)}`);
    const live = cacheKey(DIGEST);
    // A pull killed mid-download: its work dir and its lock, owner pid gone.
    const deadWork = join(cache.root, "tmp", `${dead}.4000000.1a2b3c4d`);
    await mkdir(deadWork, { recursive: true });
    await writeFile(join(deadWork, "layer0-0.part"), "partial");
    await mkdir(join(cache.root, "locks"), { recursive: true });
    await writeFile(join(cache.root, "locks", `${dead}.lock`), JSON.stringify({ pid: 4_000_000, host: hostname() }));
    // A work dir of another node (other host) whose lock was not refreshed for long.
    await mkdir(join(cache.root, "tmp", `${stale}.12.0a0b0c0d`), { recursive: true });
    await writeFile(join(cache.root, "locks", `${stale}.lock`), JSON.stringify({ pid: 12, host: "elsewhere" }));
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(cache.root, "locks", `${stale}.lock`), old, old);
    // A pull in progress: lock held, work dir present.
    const held = await cache.lock(live);
    const liveWork = await cache.createWorkDir(live);

    expect((await cache.sweepAbandoned()).sort()).toEqual([dead, stale].sort());
    expect(await readdir(join(cache.root, "tmp"))).toEqual([liveWork.slice(liveWork.lastIndexOf("/") + 1)]);
    expect(await readdir(join(cache.root, "locks"))).toEqual([`${live}.lock`]);
    await held.release();
    expect(await cache.sweepAbandoned()).toEqual([live]);
    expect(await readdir(join(cache.root, "tmp"))).toEqual([]);
  });
});
