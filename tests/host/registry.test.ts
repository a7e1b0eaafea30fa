/**
 * Host tier: pulls container disks from real docker-registry instances on
 * 127.0.0.1 (open, htpasswd, token auth), images built with umoci and
 * pushed with skopeo (or through the API where skopeo cannot), a tampering
 * proxy in front for the verification cases.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDockerConfigJson, PullError, pullDisk, type PullOptions } from "../../src/storage/registry/index.ts";
import {
  buildOciImage,
  getManifest,
  makeQcow2,
  pushAsZstd,
  pushWithSkopeo,
  putIndex,
  qcow2HasPattern,
  sha256,
  writeText,
} from "./fixtures/registry/images.ts";
import { startProxy, type RegistryProxy } from "./fixtures/registry/proxy.ts";
import { startRegistry, type RunningRegistry } from "./fixtures/registry/registry.ts";
import { startTokenServer, type TokenServer } from "./fixtures/registry/token-server.ts";
import { command, hostTier } from "../lib/host.ts";

const skip = hostTier("registry", [
  command("docker-registry", "docker-registry"),
  command("skopeo", "skopeo"),
  command("umoci", "umoci"),
  command("qemu-img", "qemu-utils"),
  command("qemu-io", "qemu-utils"),
  command("openssl", "openssl"), // key + certificate of the test token server
]);

const USER = { username: "alice", password: "correct horse battery" };

describe.skipIf(skip !== null)("registry disk pull (real docker-registry)", () => {
  let work = "";
  let open: RunningRegistry;
  let basic: RunningRegistry;
  let token: RunningRegistry;
  let tokenServer: TokenServer;
  let proxy: RegistryProxy;
  const cleanups: Array<() => Promise<void>> = [];
  let diskSha = "";
  let caches = 0;

  const cacheDir = (): string => join(work, `cache-${++caches}`);
  const opts = (registry: string, extra: Partial<PullOptions> = {}): PullOptions => ({
    cacheDir: cacheDir(),
    insecureRegistries: [registry],
    ...extra,
  });
  async function pullError(promise: Promise<unknown>): Promise<PullError> {
    try {
      await promise;
    } catch (error) {
      expect(error).toBeInstanceOf(PullError);
      return error as PullError;
    }
    throw new Error("expected the pull to fail");
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "bunvirt-registry-test-"));
    open = await startRegistry();
    cleanups.push(() => open.stop());
    basic = await startRegistry({ storage: open.storage, htpasswd: USER });
    cleanups.push(() => basic.stop());
    tokenServer = await startTokenServer(work, USER);
    cleanups.push(() => tokenServer.stop());
    token = await startRegistry({
      storage: open.storage,
      token: { realm: tokenServer.realm, service: tokenServer.service, issuer: tokenServer.issuer, rootCertBundle: tokenServer.certPath },
    });
    cleanups.push(() => token.stop());
    proxy = startProxy(open.url);
    cleanups.push(() => proxy.stop());

    const amdDisk = join(work, "amd.qcow2");
    const armDisk = join(work, "arm.qcow2");
    await makeQcow2(amdDisk, 64, 0xab);
    await makeQcow2(armDisk, 32, 0x22);
    diskSha = sha256(new Uint8Array(await Bun.file(amdDisk).arrayBuffer()));
    await writeText(join(work, "readme.txt"), "not a disk\n");
    const layout = join(work, "oci");
    await buildOciImage(layout, "cirros", [{ add: { "/disk/disk.qcow2": amdDisk } }]);
    await buildOciImage(layout, "arm", [{ add: { "/disk/disk.qcow2": armDisk } }], "arm64");
    await buildOciImage(layout, "nodisk", [{ dirs: ["/disk"], add: { "/etc/readme.txt": join(work, "readme.txt") } }]);
    await buildOciImage(layout, "twodisks", [{ add: { "/disk/a.qcow2": amdDisk, "/disk/b.img": join(work, "readme.txt") } }]);
    await buildOciImage(layout, "whiteout", [
      { add: { "/disk/a.qcow2": amdDisk, "/disk/b.img": join(work, "readme.txt") } },
      { remove: ["/disk/b.img"] },
    ]);
    await pushWithSkopeo(layout, "cirros", `${open.host}/vm/cirros:v1`);
    await pushWithSkopeo(layout, "cirros", `${open.host}/vm/docker:v1`, ["--format", "v2s2"]);
    await pushWithSkopeo(layout, "nodisk", `${open.host}/vm/nodisk:v1`);
    await pushWithSkopeo(layout, "twodisks", `${open.host}/vm/twodisks:v1`);
    await pushWithSkopeo(layout, "whiteout", `${open.host}/vm/whiteout:v1`);
    await pushAsZstd(open.url, layout, "cirros", "vm/zstd", "v1");
    // Multi-arch: both manifests pushed by tag, then an index (arm64 first).
    await pushWithSkopeo(layout, "cirros", `${open.host}/vm/multi:amd64`);
    await pushWithSkopeo(layout, "arm", `${open.host}/vm/multi:arm64`);
    const amd = await getManifest(open.url, "vm/multi", "amd64");
    const arm = await getManifest(open.url, "vm/multi", "arm64");
    await putIndex(open.url, "vm/multi", "latest", [
      { ...arm, mediaType: "application/vnd.oci.image.manifest.v1+json", platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      { ...amd, mediaType: "application/vnd.oci.image.manifest.v1+json", platform: { os: "linux", architecture: "amd64" } },
    ], "oci");
    await pushWithSkopeo(layout, "cirros", `${open.host}/vm/multi-docker:amd64`, ["--format", "v2s2"]);
    await pushWithSkopeo(layout, "arm", `${open.host}/vm/multi-docker:arm64`, ["--format", "v2s2"]);
    const damd = await getManifest(open.url, "vm/multi-docker", "amd64");
    const darm = await getManifest(open.url, "vm/multi-docker", "arm64");
    const dockerType = "application/vnd.docker.distribution.manifest.v2+json";
    await putIndex(open.url, "vm/multi-docker", "latest", [
      { ...darm, mediaType: dockerType, platform: { os: "linux", architecture: "arm64" } },
      { ...damd, mediaType: dockerType, platform: { os: "linux", architecture: "amd64" } },
    ], "docker");
  }, 120_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    if (work !== "") await rm(work, { recursive: true, force: true });
  });

  test("plain pull, digest-addressed cache, second pull fetches 0 blob bytes", async () => {
    proxy.reset();
    const options = opts(proxy.host);
    const first = await pullDisk(`${proxy.host}/vm/cirros:v1`, options);
    const manifest = await getManifest(open.url, "vm/cirros", "v1");
    expect(first).toMatchObject({ digest: manifest.digest, format: "qcow2", virtualSize: 64 * 1024 * 1024, cacheHit: false });
    expect(first.path).toBe(join(options.cacheDir, "sha256", manifest.digest.slice(7), "disk.qcow2"));
    expect(sha256(new Uint8Array(await Bun.file(first.path).arrayBuffer()))).toBe(diskSha);
    expect(await qcow2HasPattern(first.path, 0xab)).toBe(true);
    expect(first.bytesFetched).toBe(proxy.blobBytes());
    expect([...proxy.blobGets.values()]).toEqual([1, 1]); // config + one layer

    proxy.reset();
    const second = await pullDisk(`${proxy.host}/vm/cirros:v1`, options);
    expect(second).toMatchObject({ digest: first.digest, path: first.path, bytesFetched: 0, cacheHit: true });
    expect(proxy.requests).toEqual(["GET /v2/vm/cirros/manifests/v1"]);
    expect(proxy.blobBytes()).toBe(0);
  });

  test("an OCI index and a Docker manifest list: linux/amd64 is chosen", async () => {
    const options = opts(open.host);
    for (const repo of ["vm/multi", "vm/multi-docker"]) {
      const result = await pullDisk(`${open.host}/${repo}:latest`, options);
      expect(result.digest).toBe((await getManifest(open.url, repo, "amd64")).digest);
      expect(await qcow2HasPattern(result.path, 0xab)).toBe(true);
    }
    const arm = await pullDisk(`${open.host}/vm/multi:latest`, { ...options, platform: { os: "linux", architecture: "arm64" } });
    expect(await qcow2HasPattern(arm.path, 0x22)).toBe(true);
    expect(arm.virtualSize).toBe(32 * 1024 * 1024);
  });

  test("zstd layers and Docker schema 2 manifests", async () => {
    const zstdManifest = await getManifest(open.url, "vm/zstd", "v1");
    expect(new TextDecoder().decode(zstdManifest.bytes)).toContain("tar+zstd");
    const options = opts(open.host);
    const zstd = await pullDisk(`${open.host}/vm/zstd:v1`, options);
    expect(sha256(new Uint8Array(await Bun.file(zstd.path).arrayBuffer()))).toBe(diskSha);
    const docker = await pullDisk(`${open.host}/vm/docker:v1`, options);
    expect(new TextDecoder().decode((await getManifest(open.url, "vm/docker", "v1")).bytes)).toContain("rootfs.diff.tar.gzip");
    expect(sha256(new Uint8Array(await Bun.file(docker.path).arrayBuffer()))).toBe(diskSha);
  });

  test("a reference without host resolves against defaultRegistry", async () => {
    const result = await pullDisk("vm/cirros:v1", opts(open.host, { defaultRegistry: open.host }));
    expect(result.reference).toBe(`${open.host}/vm/cirros:v1`);
  });

  test("basic auth (htpasswd, bcrypt): clear 401 without credentials, pull with a pull secret", async () => {
    const denied = await pullError(pullDisk(`${basic.host}/vm/cirros:v1`, opts(basic.host)));
    expect(denied.code).toBe("unauthorized");
    expect(denied.message).toBe(
      `Cannot pull "${basic.host}/vm/cirros:v1": registry "${basic.host}" requires basic authentication (realm "bunvirt-test") and no pull secret has credentials for it`,
    );
    const wrong = parseDockerConfigJson({ auths: { [basic.host]: { username: USER.username, password: "wrong" } } });
    const rejected = await pullError(pullDisk(`${basic.host}/vm/cirros:v1`, opts(basic.host, { pullSecret: wrong })));
    expect(rejected.message).toContain("rejected the credentials of the pull secret");
    const secret = parseDockerConfigJson(
      JSON.stringify({ auths: { [basic.host]: { auth: Buffer.from(`${USER.username}:${USER.password}`).toString("base64") } } }),
    );
    const result = await pullDisk(`${basic.host}/vm/cirros:v1`, opts(basic.host, { pullSecret: secret }));
    expect(sha256(new Uint8Array(await Bun.file(result.path).arrayBuffer()))).toBe(diskSha);
  });

  test("token auth (Bearer realm, JWT signed by a test token server)", async () => {
    const reg = token;
    const denied = await pullError(pullDisk(`${reg.host}/vm/cirros:v1`, opts(reg.host)));
    expect(denied.code).toBe("unauthorized");
    expect(denied.message).toContain("refused an anonymous token");
    const secret = parseDockerConfigJson({ auths: { [reg.host]: { username: USER.username, password: USER.password } } });
    const before = tokenServer.issued();
    const result = await pullDisk(`${reg.host}/vm/cirros:v1`, opts(reg.host, { pullSecret: secret }));
    expect(sha256(new Uint8Array(await Bun.file(result.path).arrayBuffer()))).toBe(diskSha);
    expect(tokenServer.issued() - before).toBe(1);
  });

  test("a tampered layer is refused, naming both digests, and leaves the cache without the entry", async () => {
    const manifest = JSON.parse(new TextDecoder().decode((await getManifest(open.url, "vm/cirros", "v1")).bytes)) as {
      layers: Array<{ digest: string }>;
    };
    const layer = manifest.layers[0]?.digest as string;
    proxy.tamper.add(layer);
    const options = opts(proxy.host);
    try {
      const error = await pullError(pullDisk(`${proxy.host}/vm/cirros:v1`, options));
      expect(error.code).toBe("digest-mismatch");
      expect(error.message).toMatch(new RegExp(`^Cannot pull "${proxy.host}/vm/cirros:v1": blob "${layer}" failed verification: expected digest "${layer}", got "sha256:[0-9a-f]{64}"$`));
      expect(await readdir(join(options.cacheDir, "sha256")).catch(() => [])).toEqual([]);
      expect(await readdir(join(options.cacheDir, "tmp")).catch(() => [])).toEqual([]);
    } finally {
      proxy.tamper.delete(layer);
    }
    // The same cache then pulls the intact image.
    expect((await pullDisk(`${proxy.host}/vm/cirros:v1`, options)).cacheHit).toBe(false);
  });

  test("a manifest that does not hash to its pinned digest is refused", async () => {
    const { digest } = await getManifest(open.url, "vm/cirros", "v1");
    proxy.tamper.add(digest);
    try {
      const error = await pullError(pullDisk(`${proxy.host}/vm/cirros@${digest}`, opts(proxy.host)));
      expect(error.code).toBe("digest-mismatch");
      expect(error.message).toContain(`expected digest "${digest}"`);
    } finally {
      proxy.tamper.delete(digest);
    }
  });

  test("no file and two files under /disk: clear errors naming the image and what was found", async () => {
    const options = opts(open.host);
    const none = await pullError(pullDisk(`${open.host}/vm/nodisk:v1`, options));
    expect(none.code).toBe("no-disk");
    expect(none.message).toBe(`Cannot pull "${open.host}/vm/nodisk:v1": the image has no disk: no regular file directly under /disk/ (found /disk/ is empty)`);
    const two = await pullError(pullDisk(`${open.host}/vm/twodisks:v1`, options));
    expect(two.code).toBe("multiple-disks");
    expect(two.message).toStartWith(`Cannot pull "${open.host}/vm/twodisks:v1": the image has 2 files directly under /disk/ ("/disk/a.qcow2" (`);
    expect(two.message).toContain('"/disk/b.img" (11 bytes)');
    expect(await readdir(join(options.cacheDir, "sha256")).catch(() => [])).toEqual([]);
    // A volume path picks one of them.
    const picked = await pullDisk(`${open.host}/vm/twodisks:v1`, { ...options, path: "/disk/a.qcow2" });
    expect(await qcow2HasPattern(picked.path, 0xab)).toBe(true);
  });

  test("a whiteout in a later layer removes the second file", async () => {
    const result = await pullDisk(`${open.host}/vm/whiteout:v1`, opts(open.host));
    expect(sha256(new Uint8Array(await Bun.file(result.path).arrayBuffer()))).toBe(diskSha);
  });

  test("parallel pulls of the same image in one process fetch the blobs once", async () => {
    proxy.reset();
    const options = opts(proxy.host);
    const results = await Promise.all([1, 2, 3, 4].map(() => pullDisk(`${proxy.host}/vm/zstd:v1`, options)));
    expect(new Set(results.map((r) => r.path)).size).toBe(1);
    expect([...proxy.blobGets.values()]).toEqual([1, 1]);
    expect(results.filter((r) => !r.cacheHit)).toHaveLength(1);
  });

  test("two processes pulling into one cache fetch the blobs once (lock file)", async () => {
    proxy.reset();
    const dir = cacheDir();
    const worker = join(import.meta.dir, "fixtures", "registry", "pull-worker.ts");
    const procs = [1, 2].map(() =>
      Bun.spawn([process.execPath, worker, `${proxy.host}/vm/docker:v1`, dir, proxy.host], { stdout: "pipe", stderr: "pipe" }),
    );
    const outputs = await Promise.all(
      procs.map(async (p) => {
        const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        if (code !== 0) throw new Error(`pull worker failed: ${err}`);
        return JSON.parse(out) as { path: string; cacheHit: boolean; bytesFetched: number };
      }),
    );
    expect(outputs[0]?.path).toBe(outputs[1]?.path as string);
    expect(outputs.filter((o) => o.cacheHit)).toHaveLength(1);
    expect([...proxy.blobGets.values()]).toEqual([1, 1]);
    expect(await readdir(join(dir, "locks"))).toEqual([]);
  });
});
