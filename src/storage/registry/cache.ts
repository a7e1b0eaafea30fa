/**
 * Node-local, content-addressed disk cache:
 *
 *   <root>/sha256/<manifest hex>/disk.<qcow2|raw>
 *   <root>/sha256/<manifest hex>/metadata.json
 *   <root>/sha256/<manifest hex>-p<16 hex>/...  same, for a volume `path`
 *                                              other than the /disk/ rule
 *   <root>/tmp/<hex>.<pid>.<random>/   work directories (same file system)
 *   <root>/locks/<hex>.lock            cross-process fetch locks
 *
 * An entry appears by renaming a complete work directory into place, so a
 * reader sees either nothing or a whole entry. What a killed pull left (its
 * work directory, its lock file) is swept by the next pull of anything,
 * once no live pull holds that key's lock (see cache-lock.ts: a lock whose
 * owner died, or that was not refreshed for a while, is broken).
 */
import { constants } from "node:fs";
import { copyFile, mkdir, open, readFile, readdir, rename, stat, utimes } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { acquireLock, tryAcquireLock, type HeldLock, type LockOptions } from "./cache-lock.ts";
import type { DiskFormat } from "./disk-format.ts";
import { assertUnder, removeUnder } from "../../paths/index.ts";
import { SHA256_DIGEST_RE } from "./reference.ts";

export interface CacheMetadata {
  readonly version: 1;
  /** Reference the entry was first pulled as. */
  readonly reference: string;
  readonly registry: string;
  readonly repository: string;
  /** Image manifest digest (the cache key). */
  readonly digest: string;
  /** Index digest when the manifest was chosen from an index. */
  readonly indexDigest?: string;
  readonly format: DiskFormat;
  readonly virtualSize: number;
  readonly bytes: number;
  /** Where the disk was in the image, e.g. "/disk/disk.qcow2". */
  readonly pathInImage: string;
  readonly layers: readonly string[];
  readonly pulledAt: string;
}

export interface CacheEntry {
  readonly digest: string;
  readonly dir: string;
  /** Absolute path of the disk file. */
  readonly path: string;
  readonly metadata: CacheMetadata;
}

export const METADATA_FILE = "metadata.json";

export function diskFileName(format: DiskFormat): string {
  return `disk.${format}`;
}

/**
 * The cache key of a disk: the image manifest's hex digest, plus a short
 * hash of the in-image path when the disk is not chosen by the /disk/ rule
 * (the same image can then give different disks).
 */
export function cacheKey(digest: string, diskPath?: string): string {
  if (!SHA256_DIGEST_RE.test(digest)) throw new Error(`Cannot use "${digest}" as a cache key: not a sha256 digest`);
  const hex = digest.slice("sha256:".length);
  if (diskPath === undefined) return hex;
  return `${hex}-p${new Bun.CryptoHasher("sha256").update(diskPath).digest("hex").slice(0, 16)}`;
}

function checkKey(key: string): string {
  if (!/^[a-f0-9]{64}(?:-p[a-f0-9]{16})?$/.test(key)) throw new Error(`Cannot use "${key}" as a cache key: not made by cacheKey()`);
  return key;
}

async function syncDir(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class DiskCache {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /**
   * `path` below the root, proved to have no symlink on the way (assertUnder)
   * right before a write: a cache in a launcher pod's volume is written by
   * the handler, and the launcher must not redirect those writes with a
   * symlink under tmp/, locks/ or sha256/.
   */
  #checked(path: string): string {
    assertUnder(this.root, path);
    return path;
  }

  /** mkdir -p below the root, proved before and after (what was made, or found, is no symlink). */
  async #mkdirChecked(dir: string): Promise<void> {
    await mkdir(this.#checked(dir), { recursive: true });
    this.#checked(dir);
  }

  entryDir(key: string): string {
    return join(this.root, "sha256", checkKey(key));
  }

  /** A complete entry, or null (missing, or incomplete/corrupt). */
  async lookup(key: string): Promise<CacheEntry | null> {
    const dir = this.entryDir(key);
    let metadata: CacheMetadata;
    try {
      metadata = JSON.parse(await readFile(join(dir, METADATA_FILE), "utf8")) as CacheMetadata;
    } catch {
      return null;
    }
    const digest = `sha256:${key.slice(0, 64)}`;
    if (metadata.version !== 1 || metadata.digest !== digest || (metadata.format !== "qcow2" && metadata.format !== "raw")) return null;
    const path = join(dir, diskFileName(metadata.format));
    const info = await stat(path).catch(() => null);
    if (info === null || !info.isFile() || info.size !== metadata.bytes) return null;
    return { digest, dir, path, metadata };
  }

  /** Takes the cross-process lock for fetching the entry `key`. */
  async lock(key: string, options: LockOptions = {}): Promise<HeldLock> {
    const dir = join(this.root, "locks");
    await this.#mkdirChecked(dir);
    return acquireLock(this.#checked(join(dir, `${checkKey(key)}.lock`)), options);
  }

  /**
   * Removes leftovers for `key`: work directories of earlier, dead
   * attempts and an incomplete entry. Call only while holding the lock.
   */
  async clearLeftovers(key: string): Promise<void> {
    checkKey(key);
    const tmp = join(this.root, "tmp");
    const names = await readdir(tmp).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => n.startsWith(`${key}.`)).map((n) => removeUnder(this.root, join(tmp, n))));
    if ((await this.lookup(key)) === null) await removeUnder(this.root, this.entryDir(key));
  }

  /**
   * Removes what dead pulls left: for every key with a work directory or a
   * lock file, takes the key's lock if nobody live holds it (breaking a
   * stale one) and clears that key's leftovers. Returns the keys swept.
   */
  async sweepAbandoned(options: LockOptions = {}): Promise<string[]> {
    const keyOf = (name: string, suffix: RegExp): string | null => {
      const key = name.replace(suffix, "");
      return /^[a-f0-9]{64}(?:-p[a-f0-9]{16})?$/.test(key) ? key : null;
    };
    const tmp = await readdir(join(this.root, "tmp")).catch(() => [] as string[]);
    const locks = await readdir(join(this.root, "locks")).catch(() => [] as string[]);
    const keys = new Set([
      ...tmp.map((n) => keyOf(n, /\.\d+\.[a-z0-9-]+$/)),
      ...locks.map((n) => keyOf(n, /\.lock$/)),
    ].filter((k): k is string => k !== null));
    const swept: string[] = [];
    for (const key of keys) {
      await this.#mkdirChecked(join(this.root, "locks"));
      const lock = await tryAcquireLock(this.#checked(join(this.root, "locks", `${key}.lock`)), options);
      if (lock === null) continue; // a live pull owns it
      try {
        await this.clearLeftovers(key);
        swept.push(key);
      } finally {
        await lock.release();
      }
    }
    return swept;
  }

  /** A fresh work directory on the cache's file system. */
  async createWorkDir(key: string): Promise<string> {
    const dir = join(this.root, "tmp", `${checkKey(key)}.${process.pid}.${crypto.randomUUID().slice(0, 8)}`);
    await this.#mkdirChecked(dir);
    return dir;
  }

  /**
   * Publishes a work directory holding `disk.<format>`: writes the metadata
   * and renames the directory into place.
   */
  async commit(key: string, workDir: string, metadata: CacheMetadata): Promise<CacheEntry> {
    const file = await open(this.#checked(join(workDir, METADATA_FILE)), "wx", 0o644);
    try {
      await file.writeFile(`${JSON.stringify(metadata, null, 2)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    const dir = this.entryDir(key);
    const parent = join(this.root, "sha256");
    await this.#mkdirChecked(parent);
    try {
      this.#checked(workDir);
      await rename(workDir, this.#checked(dir));
      await syncDir(parent);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
      // Someone published it meanwhile (lock broken as stale): keep theirs.
      await removeUnder(this.root, workDir);
      const existing = await this.lookup(key);
      if (existing === null) throw error;
      return existing;
    }
    return { digest: metadata.digest, dir, path: join(dir, diskFileName(metadata.format)), metadata };
  }

  /**
   * Copies an entry of another cache (a node cache) into this one under the
   * same key: a reflink where the file system has them, else a copy, never a
   * link, so whoever can write this cache cannot change the other's disk.
   * Nothing is copied when this cache has the entry already.
   */
  async copyFrom(source: CacheEntry, options: LockOptions = {}): Promise<CacheEntry> {
    const key = checkKey(basename(source.dir));
    const have = await this.lookup(key);
    if (have !== null) return have;
    const lock = await this.lock(key, options);
    try {
      const done = await this.lookup(key);
      if (done !== null) return done;
      await this.clearLeftovers(key);
      const workDir = await this.createWorkDir(key);
      try {
        const file = this.#checked(join(workDir, diskFileName(source.metadata.format)));
        await copyFile(source.path, file, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
        if ((await stat(file)).size !== source.metadata.bytes) throw new Error(`Cannot copy the disk "${source.path}": it is not ${source.metadata.bytes} bytes`);
        return await this.commit(key, workDir, source.metadata);
      } catch (error) {
        await this.discard(workDir);
        throw error;
      }
    } finally {
      await lock.release();
    }
  }

  async discard(workDir: string): Promise<void> {
    await removeUnder(this.root, workDir);
  }

  /** Marks an entry used now (its metadata file's mtime, which its commit set): prune() keeps what was used lately. */
  async markUsed(key: string): Promise<void> {
    const now = new Date();
    await utimes(this.#checked(join(this.entryDir(key), METADATA_FILE)), now, now);
  }

  /**
   * Removes the entries neither pulled nor marked used for `maxUnusedMs`,
   * and incomplete ones, each under its key's lock (an entry being fetched
   * or copied now is left alone). Only for a cache whose entries no running
   * VM reads: the handler's node cache, whose disks each launcher pod gets
   * its own copy of. Returns the keys removed.
   */
  async prune(maxUnusedMs: number, options: LockOptions & { now?: number } = {}): Promise<string[]> {
    const now = options.now ?? Date.now();
    const names = await readdir(join(this.root, "sha256")).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const key of names.filter((n) => /^[a-f0-9]{64}(?:-p[a-f0-9]{16})?$/.test(n))) {
      const used = await stat(join(this.entryDir(key), METADATA_FILE)).then((i) => i.mtimeMs, () => null);
      if (used !== null && now - used < maxUnusedMs) continue;
      await this.#mkdirChecked(join(this.root, "locks"));
      const lock = await tryAcquireLock(this.#checked(join(this.root, "locks", `${key}.lock`)), options);
      if (lock === null) continue; // being fetched: in use
      try {
        // Looked at again under the lock: a pull may have marked it since.
        const again = await stat(join(this.entryDir(key), METADATA_FILE)).then((i) => i.mtimeMs, () => null);
        if (again !== null && now - again < maxUnusedMs && (await this.lookup(key)) !== null) continue;
        await removeUnder(this.root, this.entryDir(key));
        removed.push(key);
      } finally {
        await lock.release();
      }
    }
    return removed;
  }
}
