import { afterAll, expect, test } from "bun:test";
import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeLogger } from "../../log/logger.ts";
import { DiskCache, cacheKey } from "../../storage/registry/index.ts";
import { startNodeCachePrune } from "./node-cache-prune.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

test("the handler's prune removes, on its timer, the disks unused for longer than kept, and says which", async () => {
  const root = await mkdtemp(join(tmpdir(), "bunvirt-prune-unit-"));
  dirs.push(root);
  const cache = new DiskCache(root);
  const keys: string[] = [];
  for (const h of ["a1", "b2"]) {
    const digest = `sha256:${h.repeat(32)}`;
    const key = cacheKey(digest);
    const work = await cache.createWorkDir(key);
    await writeFile(join(work, "disk.raw"), "12345");
    await cache.commit(key, work, { version: 1, reference: "r/x:y", registry: "r", repository: "x", digest, format: "raw", virtualSize: 5, bytes: 5, pathInImage: "/disk/a", layers: [], pulledAt: new Date().toISOString() });
    keys.push(key);
  }
  const old = new Date(Date.now() - 2 * 3600_000);
  await utimes(join(cache.entryDir(keys[0]!), "metadata.json"), old, old);
  const lines: string[] = [];
  const prune = startNodeCachePrune({ dir: root, keepSeconds: 3600, log: makeLogger({ role: "test", write: (l) => lines.push(l) }), firstMs: 10, everyMs: 60_000 });
  const deadline = Date.now() + 5000;
  while ((await readdir(join(root, "sha256"))).length > 1 && Date.now() < deadline) await Bun.sleep(20);
  await prune.stop();
  expect(await readdir(join(root, "sha256"))).toEqual([keys[1]!]);
  expect(lines.join("\n")).toContain(`node cache: removed 1 container disk(s) unused for 3600 s: ${keys[0]}`);
});
