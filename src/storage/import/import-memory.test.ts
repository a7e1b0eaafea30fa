/**
 * An import's memory stays flat whatever the server sends: an endless body
 * and an endless gzip bomb, both refused at the requested size (512 MiB),
 * in a process of its own whose peak RSS is read from /proc.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MiB = 2 ** 20;
const worker = new URL("../../../tests/lib/import-memory-worker.ts", import.meta.url).pathname;
let dir = "";
let server: ReturnType<typeof Bun.serve>;

/** Zeros without end (a sparse write: the disk stays empty while the importer counts). */
const zeros = (): ReadableStream<Uint8Array<ArrayBuffer>> => new ReadableStream<Uint8Array<ArrayBuffer>>({ pull: (c) => c.enqueue(new Uint8Array(MiB)) }, { highWaterMark: 0 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bunvirt-import-mem-"));
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch(req): Response {
      const path = new URL(req.url).pathname;
      if (path === "/endless") return new Response(zeros());
      if (path === "/bomb.gz") return new Response(zeros().pipeThrough(new CompressionStream("gzip")));
      return new Response("no", { status: 404 });
    },
  });
});

afterAll(async () => {
  server.stop(true);
  await rm(dir, { recursive: true, force: true });
});

for (const [path, rule] of [
  ["/endless", /the raw image is larger than 512 MiB, the requested size/],
  ["/bomb.gz", /the unpacked raw image is larger than 512 MiB, the requested size/],
] as const) {
  test(`${path}: refused at 512 MiB with a peak RSS far below it, nothing left`, async () => {
    const claim = await mkdtemp(join(dir, "claim-"));
    const proc = Bun.spawn(["bun", worker, `http://127.0.0.1:${server.port}${path}`, String(512 * MiB), claim], { stdout: "pipe", stderr: "inherit" });
    const out = JSON.parse(await new Response(proc.stdout).text()) as { error: string | null; hwmKiB: number };
    expect(await proc.exited).toBe(0);
    expect(out.error).toMatch(rule);
    expect(out.hwmKiB * 1024).toBeLessThan(160 * MiB);
    expect(await readdir(claim)).toEqual([]);
  }, 60_000);
}
