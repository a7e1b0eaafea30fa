import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DataVolumeSource } from "../../api/v1/data-volume.ts";
import { silentLog, StorageError } from "../provider.ts";
import { pullDisk } from "../registry/index.ts";
import { buildTar, fakeRegistry, memoryImage } from "../../../tests/lib/registry-bytes.ts";
import { importDataVolume, type ImportContext, type ImportProgress } from "./index.ts";

const MiB = 2 ** 20;
let dir = "";
let server: ReturnType<typeof Bun.serve>;
let silent: Bun.TCPSocketListener<undefined>;
let liar: Bun.TCPSocketListener<undefined>;
let base = "";
const hits = new Map<string, number>();
const files = new Map<string, Uint8Array>();

async function sh(cmd: string[]): Promise<void> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")}: ${err}`);
}

/** 2 MiB of a byte pattern then zeros: a raw disk whose content is easy to check. */
function rawDisk(bytes: number, fill: number): Uint8Array {
  const d = new Uint8Array(bytes);
  d.fill(fill, 0, Math.min(bytes, 2 * MiB));
  return d;
}

const endless = (): ReadableStream<Uint8Array> => new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array(MiB).fill(1)) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bunvirt-import-"));
  files.set("/raw", rawDisk(3 * MiB, 0x5a));
  files.set("/raw.gz", Bun.gzipSync(rawDisk(3 * MiB, 0x5a) as Uint8Array<ArrayBuffer>));
  files.set("/bomb.gz", Bun.gzipSync(new Uint8Array(256 * MiB) as Uint8Array<ArrayBuffer>));
  files.set("/xz", new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]));
  // Real qcow2 images, by qemu-img.
  const raw = join(dir, "src.raw");
  await writeFile(raw, rawDisk(3 * MiB, 0x5a));
  await sh(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw, join(dir, "src.qcow2")]);
  files.set("/qcow2", new Uint8Array(await readFile(join(dir, "src.qcow2"))));
  await sh(["qemu-img", "create", "-q", "-f", "qcow2", join(dir, "huge.qcow2"), "1T"]);
  files.set("/huge.qcow2", new Uint8Array(await readFile(join(dir, "huge.qcow2"))));
  await sh(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "/etc/passwd", join(dir, "backed.qcow2"), "4M"]);
  files.set("/backed.qcow2", new Uint8Array(await readFile(join(dir, "backed.qcow2"))));
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch(req): Response | Promise<Response> {
      const url = new URL(req.url);
      hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
      const file = files.get(url.pathname);
      if (file !== undefined) return new Response(file as Uint8Array<ArrayBuffer>);
      const hop = /^\/hop\/(\d+)$/.exec(url.pathname);
      if (hop !== null) {
        const n = Number(hop[1]);
        return new Response(null, { status: 302, headers: { location: n === 0 ? "/raw" : `/hop/${n - 1}` } });
      }
      switch (url.pathname) {
        case "/to-file": return new Response(null, { status: 302, headers: { location: "file:///etc/passwd" } });
        case "/loop": return new Response(null, { status: 302, headers: { location: "/loop" } });
        case "/endless": return new Response(endless());
        case "/stall": return new Response(new ReadableStream({ start: (c) => c.enqueue(rawDisk(64 * 1024, 1)) }));
        case "/trickle": return new Response(new ReadableStream({ async pull(c) { await Bun.sleep(100); c.enqueue(new Uint8Array(1)); } }));
        case "/auth": return req.headers.get("authorization") === `Basic ${btoa("u:p")}` ? new Response(files.get("/raw") as Uint8Array<ArrayBuffer>) : new Response("no", { status: 401 });
        default: return new Response("not here", { status: 404 });
      }
    },
  });
  base = `http://127.0.0.1:${server.port}`;
  // A port that accepts connections and never answers.
  silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  // A server announcing 100 GiB (Bun.serve sets Content-Length itself, so this one speaks HTTP by hand).
  liar = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data(s) { s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${100 * 2 ** 30}\r\n\r\nQFI`); } } });
});

afterAll(async () => {
  server.stop(true);
  silent.stop(true);
  liar.stop(true);
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function claimDir(): Promise<string> {
  const d = join(dir, `claim-${n++}`);
  await mkdir(d);
  return d;
}

function ctx(extra: Partial<ImportContext> = {}): ImportContext {
  return { claims: {}, secrets: {}, log: silentLog, limits: { stallMs: 1000, deadlineMs: 20_000 }, ...extra };
}

async function importInto(source: DataVolumeSource, size = 4 * MiB, extra: Partial<ImportContext> = {}): Promise<{ claim: string; result: Awaited<ReturnType<typeof importDataVolume>> }> {
  const claim = await claimDir();
  const result = await importDataVolume({ name: "dv", source, sizeBytes: size, claim: { path: claim } }, ctx(extra));
  return { claim, result };
}

/** Imports and expects a refusal naming `error`; the claim must be empty afterwards. */
async function refused(source: DataVolumeSource, error: RegExp, size = 4 * MiB, extra: Partial<ImportContext> = {}): Promise<number> {
  const claim = await claimDir();
  const t0 = performance.now();
  const e = await importDataVolume({ name: "dv", source, sizeBytes: size, claim: { path: claim } }, ctx(extra)).then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(StorageError);
  expect((e as Error).message).toMatch(error);
  expect(await readdir(claim)).toEqual([]);
  return performance.now() - t0;
}

async function expectDisk(claim: string, size: number, fill: number): Promise<void> {
  const path = join(claim, "disk.img");
  expect((await stat(path)).size).toBe(size);
  const bytes = new Uint8Array(await readFile(path));
  expect(bytes[0]).toBe(fill);
  expect(bytes[2 * MiB - 1]).toBe(fill);
  expect(bytes[2 * MiB]).toBe(0);
  expect(await readdir(claim)).toEqual(["disk.img"]);
}

describe("http source", () => {
  test("a raw image is imported, grown to the requested size, and not fetched again", async () => {
    const progress: ImportProgress[] = [];
    const { claim, result } = await importInto({ http: { url: `${base}/raw` } }, 4 * MiB, { onProgress: (p) => progress.push(p) });
    expect(result.state).toBe("imported");
    await expectDisk(claim, 4 * MiB, 0x5a);
    expect(progress.at(-1)).toMatchObject({ percent: 100, phase: "done" });
    expect(progress.some((p) => p.phase === "transfer" && p.percent !== null && p.percent > 0)).toBe(true);
    const before = hits.get("/raw");
    const again = await importDataVolume({ name: "dv", source: { http: { url: `${base}/raw` } }, sizeBytes: 4 * MiB, claim: { path: claim } }, ctx());
    expect(again.state).toBe("present");
    expect(hits.get("/raw")).toBe(before);
  });

  test("a qcow2 made by qemu-img is converted to raw", async () => {
    const { claim } = await importInto({ http: { url: `${base}/qcow2` } });
    await expectDisk(claim, 4 * MiB, 0x5a);
    expect(new TextDecoder().decode((await readFile(join(claim, "disk.img"))).subarray(0, 4))).not.toBe("QFI\xfb");
  });

  test("a gzip-compressed raw image is unpacked", async () => {
    const { claim } = await importInto({ http: { url: `${base}/raw.gz` } });
    await expectDisk(claim, 4 * MiB, 0x5a);
  });

  test("redirects are followed, a few", async () => {
    const { claim } = await importInto({ http: { url: `${base}/hop/3` } });
    await expectDisk(claim, 4 * MiB, 0x5a);
  });

  test("basic authentication from the secretRef's accessKeyId and secretKey", async () => {
    const secret = join(dir, "secret");
    await mkdir(secret, { recursive: true });
    await writeFile(join(secret, "accessKeyId"), "u");
    await writeFile(join(secret, "secretKey"), "p\n");
    const { claim } = await importInto({ http: { url: `${base}/auth`, secretRef: "creds" } }, 4 * MiB, { secrets: { creds: secret } });
    await expectDisk(claim, 4 * MiB, 0x5a);
    await refused({ http: { url: `${base}/auth` } }, /answered 401/);
  });

  test("hostile servers are refused in bounded time, leaving nothing", async () => {
    await refused({ http: { url: `${base}/loop` } }, /redirected more than 5 times/);
    await refused({ http: { url: `${base}/to-file` } }, /"file" URL; only http and https/);
    await refused({ http: { url: `${base}/missing` } }, /answered 404/);
    await refused({ http: { url: `${base}/endless` } }, /larger than 4 MiB, the requested size|more than .* the requested size/);
    await refused({ http: { url: `${base}/raw` } }, /larger than 2 MiB/, 2 * MiB);
    await refused({ http: { url: `http://127.0.0.1:${liar.port}/disk` } }, /announces 107374182400 bytes/);
    await refused({ http: { url: `${base}/huge.qcow2` } }, /qcow2 of virtual size 1024 GiB, larger than the requested 4 MiB/);
    await refused({ http: { url: `${base}/backed.qcow2` } }, /backing file/);
    await refused({ http: { url: `${base}/xz` } }, /xz-compressed/);
    const bomb = await refused({ http: { url: `${base}/bomb.gz` } }, /unpacked raw image is larger than 4 MiB/);
    expect(bomb).toBeLessThan(5000);
    const stall = await refused({ http: { url: `${base}/stall` } }, /sent nothing for 1 s/);
    expect(stall).toBeLessThan(3000);
    const silentMs = await refused({ http: { url: `http://127.0.0.1:${silent.port}/disk` } }, /sent nothing for 1 s/);
    expect(silentMs).toBeLessThan(3000);
    const trickle = await refused({ http: { url: `${base}/trickle` } }, /was stopped: it took longer than 1\.5 s, the import's deadline/, 4 * MiB, { limits: { stallMs: 1000, deadlineMs: 1500 } });
    expect(trickle).toBeLessThan(4000);
  }, 30_000);

  test("a URL with credentials or another scheme is refused before any request", async () => {
    await refused({ http: { url: `http://u:p@127.0.0.1:${server.port}/raw` } }, /must not carry credentials/);
    await refused({ http: { url: "ftp://127.0.0.1/disk" } }, /only http and https/);
  });

  test("an import stopped by the caller leaves nothing", async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error("Ctrl-C")), 300);
    await refused({ http: { url: `${base}/trickle` } }, /stopped: Ctrl-C/, 4 * MiB, { signal: abort.signal });
  });

  test("a dead import's temporary file is removed by the next one; a live one's is kept", async () => {
    const claim = await claimDir();
    await writeFile(join(claim, ".disk.img.tmp-999999999-abcd"), "x");
    await writeFile(join(claim, `.disk.img.tmp-${process.ppid}-abcd`), "x");
    await importDataVolume({ name: "dv", source: { blank: {} }, sizeBytes: 4 * MiB, claim: { path: claim } }, ctx());
    expect((await readdir(claim)).sort()).toEqual([`.disk.img.tmp-${process.ppid}-abcd`, "disk.img"]);
  });
});

describe("blank, pvc and registry sources", () => {
  test("blank: a sparse raw disk of the requested size", async () => {
    const { claim } = await importInto({ blank: {} }, 64 * MiB);
    const s = await stat(join(claim, "disk.img"));
    expect(s.size).toBe(64 * MiB);
    expect(s.blocks * 512).toBeLessThan(MiB);
  });

  test("pvc: another claim's disk (a qcow2) is cloned as raw; a larger one or a missing claim is refused", async () => {
    const source = await claimDir();
    await writeFile(join(source, "disk.img"), files.get("/qcow2")!);
    const { claim } = await importInto({ pvc: { namespace: "default", name: "golden" } }, 4 * MiB, { claims: { golden: { path: source } } });
    await expectDisk(claim, 4 * MiB, 0x5a);
    await refused({ pvc: { namespace: "default", name: "golden" } }, /larger than the requested 2 MiB/, 2 * MiB, { claims: { golden: { path: source } } });
    await refused({ pvc: { namespace: "default", name: "nope" } }, /claim "nope" is not mounted/);
  });

  test("registry: the image's disk through the puller and node cache, converted to raw", async () => {
    const host = "registry.test:5000";
    const reg = fakeRegistry(host);
    const qcow = files.get("/qcow2")!;
    reg.putImage("vm/disk", "v1", memoryImage([{ tar: buildTar([{ name: "disk/", type: "5" }, { name: "disk/disk.qcow2", content: qcow }]) }]));
    const cacheDir = await mkdtemp(join(tmpdir(), "bunvirt-import-cache-"));
    try {
      const extra: Partial<ImportContext> = {
        registry: { cacheDir, insecureRegistries: [host] },
        pull: (ref, options) => pullDisk(ref, { ...options, fetch: reg.fetch }),
      };
      const { claim } = await importInto({ registry: { url: `docker://${host}/vm/disk:v1` } }, 4 * MiB, extra);
      await expectDisk(claim, 4 * MiB, 0x5a);
      await refused({ registry: { url: `docker://${host}/vm/disk:v1` } }, /virtual size is 3 MiB, larger than the requested 2 MiB/, 2 * MiB, extra);
      await refused({ registry: { url: `oci-archive:///tmp/x.tar` } }, /only docker:\/\//, 4 * MiB, extra);
      await refused({ registry: { url: `docker://${host}/vm/none:v1` } }, /cannot pull/, 4 * MiB, extra);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  test("a qemu-img that hangs is killed at the import's deadline, leaving nothing", async () => {
    // qemu-img itself cannot be made to hang on demand: a stand-in that sleeps takes its place.
    const hang = join(dir, "qemu-img-hangs");
    await writeFile(hang, "#!/bin/sh\nexec sleep 60\n", { mode: 0o755 });
    const source = await claimDir();
    await writeFile(join(source, "disk.img"), files.get("/qcow2")!);
    const ms = await refused({ pvc: { namespace: "default", name: "golden" } }, /cannot convert the qcow2 image to raw: .*stopped: it took longer than 1 s/, 4 * MiB, {
      claims: { golden: { path: source } },
      qemuImg: hang,
      limits: { deadlineMs: 1000 },
    });
    expect(ms).toBeLessThan(5000);
  });

  test("bad targets are refused before anything is written", async () => {
    await refused({ blank: {}, http: { url: `${base}/raw` } }, /2 sources/);
    await refused({}, /no source/);
    await refused({ blank: {} }, /not between 1Mi and 2Pi/, 1000);
    const claim = await claimDir();
    const e = await importDataVolume({ name: "dv", source: { blank: {} }, sizeBytes: 8 * MiB, claim: { path: claim, capacity: 4 * MiB } }, ctx()).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/larger than the claim's capacity 4 MiB/);
    const gone = await importDataVolume({ name: "dv", source: { blank: {} }, sizeBytes: 8 * MiB, claim: { path: join(dir, "nowhere") } }, ctx()).catch((x: unknown) => x);
    expect((gone as Error).message).toMatch(/is not there/);
  });
});
