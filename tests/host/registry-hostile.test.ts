/**
 * Host tier: the puller against a registry that attacks it (redirects to
 * file:// and other schemes, stalls, endless bodies, a gzip bomb, a pull
 * killed halfway, credentials baited to another origin). Every pull runs in
 * a worker process of its own, whose peak RSS is checked; a canary
 * directory proves nothing outside the cache was touched.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHostileRegistry, USER, type HostileRegistry } from "./fixtures/registry/hostile-registry.ts";
import { hostTier } from "../lib/host.ts";

const skip = hostTier("registry-hostile", []);

const MiB = 2 ** 20;
/** The puller's peak RSS stays under this whatever the registry sends (on main, file:///dev/zero took 3 GB). */
const RSS_LIMIT = 200 * MiB;
const BOMB_BYTES = 1024 * MiB;
const WORKER = join(import.meta.dir, "fixtures", "registry", "hostile-pull-worker.ts");

interface WorkerResult {
  readonly ok: boolean;
  readonly result?: { path: string; format: string; bytes: number };
  readonly error?: { code: string; message: string };
  readonly peakRssBytes: number;
}

/** path -> mode, owner, size, mtime and content hash of everything under `dir`. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const p = join(d, name);
      const s = await stat(p);
      const hash = s.isFile() ? createHash("sha256").update(await readFile(p)).digest("hex") : "dir";
      out[p] = `${s.mode} ${s.uid}:${s.gid} ${s.size} ${s.mtimeMs} ${hash}`;
      if (s.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out;
}

describe.skipIf(skip !== null)("registry pull against a hostile registry", () => {
  let work = "";
  let canary = "";
  let canaryBefore: Record<string, string> = {};
  let reg: HostileRegistry;
  let caches = 0;

  const cacheDir = (): string => join(work, `cache-${++caches}`);
  const spawnPull = (reference: string, extra: Record<string, unknown> = {}): ReturnType<typeof Bun.spawn> =>
    Bun.spawn([process.execPath, WORKER, JSON.stringify({ reference, cacheDir: cacheDir(), insecure: [reg.host, reg.hangupHost], ...extra })], {
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
    });
  async function pull(reference: string, extra: Record<string, unknown> = {}): Promise<WorkerResult> {
    const proc = spawnPull(reference, extra);
    const [out, err] = await Promise.all([new Response(proc.stdout as ReadableStream).text(), new Response(proc.stderr as ReadableStream).text(), proc.exited]);
    const line = out.trim().split("\n").pop() ?? "";
    if (!line.startsWith("{")) throw new Error(`the pull worker printed no result: ${err.trim()}`);
    const result = JSON.parse(line) as WorkerResult;
    if (process.env.SHOW === "1") console.log(reference, line); // SHOW=1: print every worker result
    expect(result.peakRssBytes).toBeGreaterThan(0);
    expect(result.peakRssBytes).toBeLessThan(RSS_LIMIT);
    if (result.error !== undefined) {
      // In the user's terms: no Bun hints, no "undefined".
      expect(result.error.message).not.toMatch(/verbose|undefined/);
      expect(result.error.message.length).toBeLessThan(1000);
    }
    return result;
  }
  async function failure(reference: string, extra: Record<string, unknown> = {}): Promise<{ code: string; message: string }> {
    const r = await pull(reference, extra);
    expect(r.ok).toBe(false);
    return r.error!;
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "bunvirt-registry-hostile-"));
    canary = join(work, "canary");
    await mkdir(join(canary, "sub"), { recursive: true });
    await writeFile(join(canary, "secret"), "TOPSECRET-canary-word and more\n", { mode: 0o600 });
    await writeFile(join(canary, "sub", "file"), "untouched\n");
    canaryBefore = await snapshot(canary);
    reg = await startHostileRegistry(BOMB_BYTES);
  });

  afterAll(async () => {
    await reg?.stop();
    if (work !== "") await rm(work, { recursive: true, force: true });
  });

  test("a redirect to file:// is refused without reading the file", async () => {
    reg.redirects[0] = `file://${join(canary, "secret")}`;
    reg.redirects[1] = "file:///dev/zero";
    reg.redirects[2] = "file:///etc/shadow";
    for (const n of [0, 1, 2]) {
      const error = await failure(`${reg.host}/redirect/${n}:latest`);
      expect(error.code).toBe("registry");
      expect(error.message).toContain(`"${reg.host}" redirected the request for the manifest "latest" to a "file" URL; only http and https redirects are followed`);
      expect(error.message).not.toContain("TOPSECRET");
    }
  });

  test("redirects to other schemes are refused", async () => {
    const targets = ["data:application/json,{}", "ftp://127.0.0.1/x", "s3://bucket/key", "blob:http://127.0.0.1/x"];
    for (const [i, target] of targets.entries()) {
      reg.redirects[10 + i] = target;
      const error = await failure(`${reg.host}/redirect/${10 + i}:v1`);
      expect(error.message).toContain(`to a "${target.slice(0, target.indexOf(":"))}" URL; only http and https redirects are followed`);
    }
  });

  test("credentials go to the registry only, not to the storage server it redirects to", async () => {
    const r = await pull(`${reg.host}/private/x:latest`, { basic: { registry: reg.host, ...USER } });
    expect(r.error).toBeUndefined();
    expect(Buffer.from(await readFile(r.result!.path)).equals(Buffer.from(reg.goodDisk))).toBe(true);
    expect(reg.authorizedRequests()).toBeGreaterThanOrEqual(3); // manifest, config, layer: each with credentials
    expect(reg.storageAuthorizations.length).toBeGreaterThanOrEqual(3); // ... each redirected to the storage server
    expect(reg.storageAuthorizations.every((h) => h === null)).toBe(true);
  });

  test("a registry that never answers times out, naming the host and what was fetched", async () => {
    const error = await failure(`${reg.host}/stall-headers/x:latest`, { timeoutMs: 1500 });
    expect(error.code).toBe("timeout");
    expect(error.message).toContain(`timed out waiting for the manifest "latest" from "${reg.host}": nothing arrived for 1.5 s`);
    expect(error.message).toContain("--registry-timeout");
  });

  test("a body that stalls after its headers times out", async () => {
    const error = await failure(`${reg.host}/stall-body/x:v2`, { timeoutMs: 1500 });
    expect(error.code).toBe("timeout");
    expect(error.message).toContain(`timed out waiting for the manifest "v2" from "${reg.host}"`);
  });

  test("an endless manifest is cut at 4 MiB", async () => {
    const error = await failure(`${reg.host}/endless-manifest/x:latest`);
    expect(error.code).toBe("invalid-image");
    expect(error.message).toContain('the manifest "latest" is larger than 4 MiB');
  });

  test("an endless error body is read only in part", async () => {
    const error = await failure(`${reg.host}/huge-error/x:latest`);
    expect(error.code).toBe("not-found");
    expect(error.message).toContain(`registry "${reg.host}" answered 404`);
    expect(error.message).toContain("no such manifest");
  });

  test("an endless token answer is cut at 1 MiB", async () => {
    const error = await failure(`${reg.host}/endless-token/x:latest`);
    expect(error.code).toBe("registry");
    expect(error.message).toContain("answered more than 1 MiB");
  });

  test("a connection closed in the middle of a body is told in the user's terms", async () => {
    const error = await failure(`${reg.hangupHost}/any/x:latest`);
    expect(["network", "invalid-image"]).toContain(error.code);
    expect(error.message).toContain(`Cannot pull "${reg.hangupHost}/any/x:latest"`);
  });

  test("a gzip bomb of zeros is refused at the maximum disk size", async () => {
    const dir = join(work, `cache-${caches + 1}`);
    const error = await failure(`${reg.host}/bomb/x:latest`, { maxDiskBytes: 64 * MiB });
    expect(error.code).toBe("invalid-image");
    expect(error.message).toContain('the file "/disk/disk.raw" of the image is larger than 64 MiB uncompressed');
    expect(error.message).toContain("--max-disk-size");
    expect(await readdir(join(dir, "tmp")).catch(() => [])).toEqual([]);
  });

  test("under the maximum, a disk of zeros is written sparse", async () => {
    const r = await pull(`${reg.host}/bomb/x:latest`);
    expect(r.error).toBeUndefined();
    expect(r.result!.format).toBe("raw");
    const info = await stat(r.result!.path);
    expect(info.size).toBe(BOMB_BYTES);
    expect(info.blocks * 512).toBeLessThan(MiB);
  });

  test("what a killed pull left is swept by the next pull of another image", async () => {
    const dir = join(work, `cache-${caches + 1}`);
    const worker = spawnPull(`${reg.host}/stall-blob/x:latest`, { timeoutMs: 600_000 });
    // Wait until it is halfway through the layer: its work directory exists.
    for (let i = 0; i < 600 && (await readdir(join(dir, "tmp")).catch(() => [])).length === 0; i++) await Bun.sleep(100);
    expect((await readdir(join(dir, "tmp"))).length).toBe(1);
    worker.kill("SIGKILL");
    await worker.exited;
    expect((await readdir(join(dir, "locks"))).length).toBe(1);

    caches = Number(dir.slice(dir.lastIndexOf("-") + 1)) - 1; // the next pull uses the same cache
    const r = await pull(`${reg.host}/good/disk:latest`);
    expect(r.error).toBeUndefined();
    expect(r.result!.path.startsWith(dir)).toBe(true);
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
    expect(await readdir(join(dir, "locks"))).toEqual([]);
  });

  test("nothing outside the caches changed", async () => {
    expect(await snapshot(canary)).toEqual(canaryBefore);
    const names = (await readdir(work)).filter((n) => n !== "canary");
    expect(names.every((n) => /^cache-\d+$/.test(n))).toBe(true);
  });
});
