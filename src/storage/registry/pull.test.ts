import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDockerConfigJson } from "./docker-config.ts";
import { PullError } from "./errors.ts";
import { MediaType } from "./manifest.ts";
import type { PullProgress } from "./progress.ts";
import { pullDisk, type PullOptions } from "./pull.ts";
import { buildTar, fakeRegistry, memoryImage, sha256, type FakeRegistry } from "../../../tests/lib/registry-bytes.ts";

const HOST = "reg.test:5000";
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function cacheDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "bunvirt-pull-unit-"));
  dirs.push(d);
  return d;
}

function qcow2(size: number, fill: number): Uint8Array {
  const bytes = new Uint8Array(size).fill(fill);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, 0x514649fb);
  v.setUint32(4, 3);
  v.setBigUint64(8, 0n);
  v.setBigUint64(24, 1024n * 1024n * 1024n);
  return bytes;
}

const disk = qcow2(300_000, 7);
const diskTar = buildTar([{ name: "disk/", type: "5" }, { name: "disk/disk.qcow2", content: disk }, { name: "etc/other", content: "ignored" }]);

function setup(): { reg: FakeRegistry; opts: (extra?: Partial<PullOptions>) => Promise<PullOptions> } {
  const reg = fakeRegistry(HOST);
  return {
    reg,
    opts: async (extra = {}) => ({ cacheDir: await cacheDir(), insecureRegistries: [HOST], fetch: reg.fetch, ...extra }),
  };
}

async function pullError(promise: Promise<unknown>): Promise<PullError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PullError);
    return error as PullError;
  }
  throw new Error("expected the pull to fail");
}

async function cacheContents(dir: string): Promise<{ entries: string[]; tmp: string[] }> {
  return {
    entries: await readdir(join(dir, "sha256")).catch(() => []),
    tmp: await readdir(join(dir, "tmp")).catch(() => []),
  };
}

describe("pullDisk against an in-memory registry", () => {
  test("pulls, caches by digest, and a second pull fetches only the manifest", async () => {
    const { reg, opts } = setup();
    const image = memoryImage([{ tar: diskTar }]);
    reg.putImage("vm/cirros", "v1", image);
    const options = await opts();
    const progress: PullProgress[] = [];
    const first = await pullDisk(`${HOST}/vm/cirros:v1`, { ...options, onProgress: (p) => progress.push(p) });
    expect(first).toMatchObject({
      reference: `${HOST}/vm/cirros:v1`,
      digest: image.manifestDigest,
      format: "qcow2",
      virtualSize: 1024 ** 3,
      bytes: disk.length,
      cacheHit: false,
    });
    expect(first.path).toBe(join(options.cacheDir, "sha256", image.manifestDigest.slice(7), "disk.qcow2"));
    expect(first.bytesFetched).toBe([...image.blobs.values()].reduce((n, b) => n + b.length, 0));
    expect(sha256(await readFile(first.path))).toBe(sha256(disk));
    expect(progress.at(-1)?.bytes).toBe(first.bytesFetched);
    expect(progress.at(-1)?.totalBytes).toBe(first.bytesFetched);
    const meta = JSON.parse(await readFile(join(first.path, "..", "metadata.json"), "utf8"));
    expect(meta).toMatchObject({ reference: `${HOST}/vm/cirros:v1`, format: "qcow2", bytes: disk.length, pathInImage: "/disk/disk.qcow2" });

    const before = reg.requests.length;
    const second = await pullDisk(`${HOST}/vm/cirros:v1`, options);
    expect(second).toMatchObject({ digest: first.digest, path: first.path, bytesFetched: 0, cacheHit: true });
    expect(reg.requests.slice(before)).toEqual(["GET /v2/vm/cirros/manifests/v1"]);

    const pinned = await pullDisk(`${HOST}/vm/cirros@${image.manifestDigest}`, options);
    expect(pinned.cacheHit).toBe(true);
    expect(reg.requests.length).toBe(before + 1); // no request at all
    expect((await cacheContents(options.cacheDir)).tmp).toEqual([]);
  });

  test("zstd and uncompressed layers; whiteouts across layers; raw format", async () => {
    const { reg, opts } = setup();
    const raw = new Uint8Array(100_000).fill(1);
    const image = memoryImage([
      { tar: buildTar([{ name: "disk/a.img", content: raw }, { name: "disk/b.img", content: "second" }]), compression: "zstd" },
      { tar: buildTar([{ name: "disk/.wh.b.img" }]), compression: "none" },
    ]);
    reg.putImage("vm/raw", "latest", image);
    const result = await pullDisk("vm/raw", await opts({ defaultRegistry: HOST }));
    expect(result).toMatchObject({ format: "raw", bytes: raw.length, virtualSize: raw.length });
    expect(result.path.endsWith("disk.raw")).toBe(true);
  });

  test("picks linux/amd64 from an index", async () => {
    const { reg, opts } = setup();
    const amd = memoryImage([{ tar: diskTar }]);
    const arm = memoryImage([{ tar: buildTar([{ name: "disk/arm.qcow2", content: qcow2(1000, 9) }]) }], { os: "linux", architecture: "arm64" });
    reg.putImage("vm/multi", "amd", amd);
    reg.putImage("vm/multi", "arm", arm);
    const index = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [
          { mediaType: MediaType.ociManifest, digest: arm.manifestDigest, size: arm.manifest.length, platform: { os: "linux", architecture: "arm64" } },
          { mediaType: MediaType.ociManifest, digest: amd.manifestDigest, size: amd.manifest.length, platform: { os: "linux", architecture: "amd64" } },
        ],
      }),
    );
    reg.putManifest("vm/multi", "both", index, MediaType.ociIndex);
    const options = await opts();
    const result = await pullDisk(`${HOST}/vm/multi:both`, options);
    expect(result.digest).toBe(amd.manifestDigest);
    expect(result.bytes).toBe(disk.length);
    const armResult = await pullDisk(`${HOST}/vm/multi:both`, { ...options, platform: { os: "linux", architecture: "arm64" } });
    expect(armResult.digest).toBe(arm.manifestDigest);
    const before = reg.requests.length;
    expect((await pullDisk(`${HOST}/vm/multi:both`, options)).cacheHit).toBe(true);
    expect(reg.requests.length).toBe(before + 1); // the index only
    const none = await pullError(pullDisk(`${HOST}/vm/multi:both`, { ...options, platform: { os: "linux", architecture: "s390x" } }));
    expect(none.message).toContain('has no manifest for platform "linux/s390x" (it has: linux/arm64, linux/amd64)');
  });

  test("basic auth: refused without credentials, works with a pull secret", async () => {
    const { reg, opts } = setup();
    reg.putImage("vm/private", "v1", memoryImage([{ tar: diskTar }]));
    reg.auth = { kind: "basic", username: "alice", password: "pw" };
    const options = await opts();
    const denied = await pullError(pullDisk(`${HOST}/vm/private:v1`, options));
    expect(denied.code).toBe("unauthorized");
    expect(denied.message).toBe(
      `Cannot pull "${HOST}/vm/private:v1": registry "${HOST}" requires basic authentication (realm "fake") and no pull secret has credentials for it`,
    );
    const wrong = parseDockerConfigJson({ auths: { [HOST]: { username: "alice", password: "nope" } } });
    expect((await pullError(pullDisk(`${HOST}/vm/private:v1`, { ...options, pullSecret: wrong }))).message).toContain("rejected the credentials");
    const secret = parseDockerConfigJson({ auths: { [HOST]: { auth: Buffer.from("alice:pw").toString("base64") } } });
    expect((await pullDisk(`${HOST}/vm/private:v1`, { ...options, pullSecret: secret })).cacheHit).toBe(false);
  });

  test("bearer token auth, with credentials and anonymous", async () => {
    const { reg, opts } = setup();
    reg.putImage("vm/tok", "v1", memoryImage([{ tar: diskTar }]));
    reg.auth = { kind: "bearer", username: "bob", password: "pw" };
    const options = await opts();
    const denied = await pullError(pullDisk(`${HOST}/vm/tok:v1`, options));
    expect(denied.code).toBe("unauthorized");
    expect(denied.message).toContain("refused an anonymous token");
    const secret = parseDockerConfigJson({ auths: { [HOST]: { username: "bob", password: "pw" } } });
    expect((await pullDisk(`${HOST}/vm/tok:v1`, { ...options, pullSecret: secret })).format).toBe("qcow2");
    expect(reg.requests.filter((r) => r.startsWith("GET /token"))).toHaveLength(2); // one per pull, reused for every blob
    reg.auth = { kind: "bearer", username: "bob", password: "pw", anonymousToken: true };
    const other = await opts();
    expect((await pullDisk(`${HOST}/vm/tok:v1`, other)).cacheHit).toBe(false);
  });

  test("a tampered layer is refused with both digests and leaves nothing in the cache", async () => {
    const { reg, opts } = setup();
    const image = memoryImage([{ tar: diskTar }]);
    reg.putImage("vm/bad", "v1", image);
    const layer = image.layerDigests[0] as string;
    const tampered = (image.blobs.get(layer) as Uint8Array).slice();
    const middle = Math.floor(tampered.length / 2);
    tampered[middle] = (tampered[middle] ?? 0) ^ 0xff;
    reg.tamper(layer, tampered);
    const options = await opts();
    const error = await pullError(pullDisk(`${HOST}/vm/bad:v1`, options));
    expect(error.code).toBe("digest-mismatch");
    expect(error.message).toContain(`expected digest "${layer}", got "${sha256(tampered)}"`);
    expect(await cacheContents(options.cacheDir)).toEqual({ entries: [], tmp: [] });
  });

  test("a manifest that does not match its pinned digest is refused", async () => {
    const { reg, opts } = setup();
    const image = memoryImage([{ tar: diskTar }]);
    reg.putImage("vm/pin", "v1", image);
    const wrong = `sha256:${"0".repeat(64)}`;
    reg.putManifest("vm/pin", wrong, image.manifest, MediaType.ociManifest); // served under another digest
    const error = await pullError(pullDisk(`${HOST}/vm/pin@${wrong}`, await opts()));
    expect(error.code).toBe("digest-mismatch");
    expect(error.message).toContain(`expected digest "${wrong}", got "${image.manifestDigest}"`);
  });

  test("no file and two files under /disk are clear errors; a path picks one", async () => {
    const { reg, opts } = setup();
    reg.putImage("vm/empty", "v1", memoryImage([{ tar: buildTar([{ name: "disk/", type: "5" }, { name: "README", content: "x" }]) }]));
    reg.putImage("vm/two", "v1", memoryImage([{ tar: buildTar([{ name: "disk/a.qcow2", content: disk }, { name: "disk/b.img", content: "bb" }]) }]));
    const options = await opts();
    const empty = await pullError(pullDisk(`${HOST}/vm/empty:v1`, options));
    expect(empty.code).toBe("no-disk");
    expect(empty.message).toBe(`Cannot pull "${HOST}/vm/empty:v1": the image has no disk: no regular file directly under /disk/ (found /disk/ is empty)`);
    const two = await pullError(pullDisk(`${HOST}/vm/two:v1`, options));
    expect(two.code).toBe("multiple-disks");
    expect(two.message).toContain('the image has 2 files directly under /disk/ ("/disk/a.qcow2" (300000 bytes), "/disk/b.img" (2 bytes))');
    expect(await cacheContents(options.cacheDir)).toEqual({ entries: [], tmp: [] });
    const chosen = await pullDisk(`${HOST}/vm/two:v1`, { ...options, path: "/disk/b.img" });
    expect(chosen).toMatchObject({ format: "raw", bytes: 2 });
    expect(chosen.path).toContain("-p");
  });

  test("parallel pulls of the same image fetch each blob once", async () => {
    const { reg, opts } = setup();
    const image = memoryImage([{ tar: diskTar }]);
    reg.putImage("vm/par", "v1", image);
    const options = await opts();
    const results = await Promise.all([1, 2, 3].map(() => pullDisk(`${HOST}/vm/par:v1`, options)));
    expect(new Set(results.map((r) => r.path)).size).toBe(1);
    for (const d of image.blobs.keys()) expect(reg.blobGets.get(d)).toBe(1);
    expect(results.filter((r) => !r.cacheHit)).toHaveLength(1);
    expect(results.reduce((n, r) => n + r.bytesFetched, 0)).toBe([...image.blobs.values()].reduce((n, b) => n + b.length, 0));
  });

  test("error codes: invalid reference, unknown tag, unreachable registry, https by default", async () => {
    const { reg, opts } = setup();
    const options = await opts();
    expect((await pullError(pullDisk("Bad Ref", options))).code).toBe("invalid-reference");
    expect((await pullError(pullDisk(`${HOST}/nothing:here`, options))).code).toBe("not-found");
    const unreachable = await pullError(pullDisk("other.test/x:y", { ...options, insecureRegistries: ["other.test"] }));
    expect(unreachable.code).toBe("network");
    expect(unreachable.message).toContain('cannot reach registry "other.test" at http://other.test/v2/x/manifests/y');
    reg.putImage("vm/https", "v1", memoryImage([{ tar: diskTar }]));
    const https = await pullError(pullDisk(`${HOST}/vm/https:v1`, { ...options, insecureRegistries: [] }));
    expect(https.code).toBe("network");
    expect(https.message).toContain(`https://${HOST}/`);
    expect(https.message).toContain("list it in insecureRegistries");
    expect((await pullError(pullDisk(`${HOST}/x:y`, { ...options, path: "relative" }))).code).toBe("invalid-options");
    const controller = new AbortController();
    controller.abort(new Error("launcher stopping"));
    const aborted = await pullError(pullDisk(`${HOST}/vm/https:v1`, { ...options, signal: controller.signal }));
    expect(aborted.code).toBe("aborted");
    expect(aborted.message).toBe(`Cannot pull "${HOST}/vm/https:v1": the pull was aborted (launcher stopping)`);
  });

  test("limits: the maximum disk size, a layer expanding far past it, bad limits", async () => {
    const { reg, opts } = setup();
    reg.putImage("vm/big", "v1", memoryImage([{ tar: diskTar }]));
    const big = await pullError(pullDisk(`${HOST}/vm/big:v1`, await opts({ maxDiskBytes: 100_000 })));
    expect(big.code).toBe("invalid-image");
    expect(big.message).toContain('the file "/disk/disk.qcow2" of the image is larger than 100000 bytes uncompressed');
    // 70 MiB of zeros in a file that is not the disk: skipped, but the layer may not expand that far.
    const bomb = buildTar([{ name: "etc/zeros", content: new Uint8Array(70 * 2 ** 20) }, { name: "disk/disk.qcow2", content: disk }]);
    const image = memoryImage([{ tar: bomb }]);
    reg.putImage("vm/bomb", "v1", image);
    const options = await opts({ maxDiskBytes: 1_000_000 });
    const expanded = await pullError(pullDisk(`${HOST}/vm/bomb:v1`, options));
    expect(expanded.code).toBe("invalid-image");
    expect(expanded.message).toContain(`layer "${image.layerDigests[0]}" expands to more than`);
    expect(await cacheContents(options.cacheDir)).toEqual({ entries: [], tmp: [] });
    for (const bad of [{ timeoutMs: 0 }, { timeoutMs: Number.NaN }, { timeoutMs: 2 ** 31 }, { maxDiskBytes: -1 }, { maxDiskBytes: 1.5 }]) {
      const error = await pullError(pullDisk(`${HOST}/vm/big:v1`, await opts(bad)));
      expect(error.code).toBe("invalid-options");
      expect(error.message).toStartWith(`Cannot pull "${HOST}/vm/big:v1": the `);
    }
  });

  test("a redirect to file:// is refused before any request goes there; a silent registry times out", async () => {
    const asked: string[] = [];
    const fetch = async (url: string, init: BunFetchRequestInit): Promise<Response> => {
      asked.push(url);
      if (url.includes("/silent/")) return new Promise<Response>((_, reject) => init.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
      return new Response(null, { status: 302, headers: { location: "file:///etc/shadow" } });
    };
    const options = await opts0({ fetch, timeoutMs: 50 });
    const redirected = await pullError(pullDisk(`${HOST}/vm/x:v1`, options));
    expect(redirected.code).toBe("registry");
    expect(redirected.message).toContain(`"${HOST}" redirected the request for the manifest "v1" to a "file" URL`);
    expect(asked).toEqual([`http://${HOST}/v2/vm/x/manifests/v1`]);
    const silent = await pullError(pullDisk(`${HOST}/silent/x:v1`, options));
    expect(silent.code).toBe("timeout");
    expect(silent.message).toContain(`timed out waiting for the manifest "v1" from "${HOST}": nothing arrived for 0.05 s`);
  });
});

async function opts0(extra: Partial<PullOptions>): Promise<PullOptions> {
  return { cacheDir: await cacheDir(), insecureRegistries: [HOST], ...extra };
}
