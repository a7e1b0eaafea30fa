/**
 * The contract every volume provider keeps, as bun:test tests. A provider's
 * test file calls `providerContract(title, makeProvider, fixtures, options)`
 * with a fixture maker; the unit tier checks formats by magic bytes, the
 * host tier with `qemu-img info`.
 *
 * What is proven, for every provider:
 * - prepare returns an existing file (or block device) of the declared format;
 * - preparing twice returns the same disk and creates or rewrites nothing;
 * - cleanup removes exactly what prepare created: the watched directories
 *   are as before prepare (plus what the fixture says is persistent), and
 *   files that were there before are untouched;
 * - a failure part-way (a missing source, a failing tool) leaves nothing;
 * - bad input is rejected by check() and prepare() with a clear error before
 *   anything is created.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { lstat, mkdir, readdir, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { StorageError, type PreparedDisk, type Volume, type VolumeContext, type VolumeProvider } from "../../src/storage/provider.ts";

export interface ContractCase {
  readonly volume: Volume;
  readonly ctx: VolumeContext;
  /** Directories whose content prepare may change (default: the state directory). */
  readonly watch?: readonly string[];
  /** Paths prepare may create that outlive cleanup (a claim's disk.img). */
  readonly keeps?: readonly string[];
  /** A provider to use instead of the suite's (one with a failing tool). */
  readonly provider?: VolumeProvider;
}

export interface ContractBadCase {
  readonly title: string;
  make(): Promise<ContractCase>;
  /** What the error message must say. */
  readonly error: RegExp;
}

export interface ContractFixtures {
  /** A fresh good case (its own directories) on every call. */
  good(): Promise<ContractCase>;
  /** Cases whose prepare fails part-way: nothing may be left behind. */
  readonly failing: readonly ContractBadCase[];
  /** Cases rejected before anything is created. */
  readonly bad: readonly ContractBadCase[];
  /** Removes everything the fixtures made. */
  dispose(): Promise<void>;
}

export interface ContractOptions {
  /** "magic": qcow2 magic bytes (unit tier); "qemu-img": `qemu-img info --output=json` (host tier). */
  readonly formatCheck: "magic" | "qemu-img";
  readonly timeoutMs?: number;
}

export interface SnapshotEntry {
  readonly path: string;
  readonly type: "file" | "dir" | "symlink" | "block" | "other";
  readonly size?: number;
  readonly ino?: number;
  readonly mtimeMs?: number;
  readonly link?: string;
}

/** Everything under `dirs` (recursively, not following symlinks), sorted by path. */
export async function snapshot(dirs: readonly string[]): Promise<SnapshotEntry[]> {
  const out: SnapshotEntry[] = [];
  const walk = async (path: string): Promise<void> => {
    const s = await lstat(path).catch(() => null);
    if (s === null) return;
    if (s.isDirectory()) {
      out.push({ path, type: "dir" }); // a directory's mtime follows its entries, which are listed themselves
      for (const name of await readdir(path)) await walk(join(path, name));
    } else if (s.isSymbolicLink()) {
      out.push({ path, type: "symlink", link: await readlink(path) });
    } else if (s.isFile()) {
      out.push({ path, type: "file", size: s.size, ino: s.ino, mtimeMs: s.mtimeMs });
    } else {
      out.push({ path, type: s.isBlockDevice() ? "block" : "other", ino: s.ino });
    }
  };
  for (const d of dirs) await walk(d);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const QCOW2_MAGIC = [0x51, 0x46, 0x49, 0xfb];

async function formatOf(path: string, how: ContractOptions["formatCheck"]): Promise<string> {
  if (how === "qemu-img") {
    const proc = Bun.spawn(["qemu-img", "info", "--output=json", "-U", path], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`Cannot run "qemu-img info ${path}": exit ${code}: ${err.trim()}`);
    return (JSON.parse(out) as { format: string }).format;
  }
  const head = new Uint8Array(await Bun.file(path).slice(0, 4).arrayBuffer());
  return QCOW2_MAGIC.every((b, i) => head[i] === b) ? "qcow2" : "raw";
}

/** The fields that say which disk it is (bytesFetched and cacheHit describe the call, not the disk). */
function identity(d: PreparedDisk): Pick<PreparedDisk, "name" | "kind" | "path" | "format" | "readOnly" | "block"> {
  return { name: d.name, kind: d.kind, path: d.path, format: d.format, readOnly: d.readOnly, block: d.block };
}

function watched(c: ContractCase): readonly string[] {
  return c.watch ?? [c.ctx.stateDir];
}

export function providerContract(title: string, makeProvider: () => VolumeProvider, fixtures: ContractFixtures, options: ContractOptions): void {
  const timeout = options.timeoutMs ?? 30_000;
  describe(`${title}: provider contract`, () => {
    afterAll(async () => {
      await fixtures.dispose();
    });

    test("prepare returns an existing path with the declared format", async () => {
      const c = await fixtures.good();
      const provider = c.provider ?? makeProvider();
      const r = await provider.prepare(c.volume, c.ctx);
      try {
        expect(r.name).toBe(c.volume.name);
        expect(r.kind).toBe(provider.kind);
        expect(typeof r.readOnly).toBe("boolean");
        expect(["raw", "qcow2"]).toContain(r.format);
        const s = await lstat(r.path);
        if (r.block) expect(s.isBlockDevice()).toBe(true);
        else expect(s.isFile()).toBe(true);
        expect(await formatOf(r.path, options.formatCheck)).toBe(r.format);
      } finally {
        await provider.cleanup(c.volume, c.ctx);
      }
    }, timeout);

    test("preparing twice returns the same disk and creates nothing new", async () => {
      const c = await fixtures.good();
      const provider = c.provider ?? makeProvider();
      try {
        const first = await provider.prepare(c.volume, c.ctx);
        const after1 = await snapshot(watched(c));
        const second = await provider.prepare(c.volume, c.ctx);
        const after2 = await snapshot(watched(c));
        expect(identity(second)).toEqual(identity(first));
        expect(after2).toEqual(after1);
      } finally {
        await provider.cleanup(c.volume, c.ctx);
      }
    }, timeout);

    test("cleanup removes exactly what prepare created", async () => {
      const c = await fixtures.good();
      const provider = c.provider ?? makeProvider();
      // Files of others, some with names close to the provider's own.
      await mkdir(c.ctx.stateDir, { recursive: true });
      for (const name of ["unrelated.txt", `${c.volume.name}.other`, `.${c.volume.name}.keep`, `${c.volume.name}-2.qcow2`]) {
        await writeFile(join(c.ctx.stateDir, name), "someone else's\n");
      }
      const before = await snapshot(watched(c));
      const r = await provider.prepare(c.volume, c.ctx);
      const during = await snapshot(watched(c));
      for (const e of before) expect(during).toContainEqual(e); // prepare changed nothing that was there
      const removed = await provider.cleanup(c.volume, c.ctx);
      const after = await snapshot(watched(c));
      const kept = during.filter((e) => (c.keeps ?? []).includes(e.path));
      const expected = [...before, ...kept.filter((k) => !before.some((b) => b.path === k.path))].sort((a, b) => (a.path < b.path ? -1 : 1));
      expect(after).toEqual(expected);
      if (!(c.keeps ?? []).includes(r.path) && !r.block && !before.some((b) => b.path === r.path)) expect(removed).toContain(r.path);
      expect(await provider.cleanup(c.volume, c.ctx)).toEqual([]); // again: nothing left to remove
      expect(await snapshot(watched(c))).toEqual(expected);
    }, timeout);

    for (const f of fixtures.failing) {
      test(`a failure part-way leaves nothing behind: ${f.title}`, async () => {
        const c = await f.make();
        const provider = c.provider ?? makeProvider();
        const before = await snapshot(watched(c));
        const error = await provider.prepare(c.volume, c.ctx).then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect((error as Error).message).toStartWith(`Cannot prepare volume "${c.volume.name}": `);
        expect((error as Error).message).toMatch(f.error);
        expect(await snapshot(watched(c))).toEqual(before);
      }, timeout);
    }

    for (const b of fixtures.bad) {
      test(`bad input is rejected before anything is created: ${b.title}`, async () => {
        const c = await b.make();
        const provider = c.provider ?? makeProvider();
        const before = await snapshot(watched(c));
        const checked = await provider.check(c.volume, c.ctx).then(() => null, (e: unknown) => e);
        expect(checked).toBeInstanceOf(StorageError);
        expect((checked as Error).message).toMatch(b.error);
        const prepared = await provider.prepare(c.volume, c.ctx).then(() => null, (e: unknown) => e);
        expect(prepared).toBeInstanceOf(StorageError);
        expect((prepared as Error).message).toStartWith(`Cannot prepare volume "${c.volume.name}": `);
        expect((prepared as Error).message).toMatch(b.error);
        expect(await snapshot(watched(c))).toEqual(before);
      }, timeout);
    }
  });
}
