/** `bunvirt import` as the importer pod runs it: the DataVolume on stdin, a claim directory, a server on 127.0.0.1. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBunvirt } from "../lib/bunvirt.ts";

const MiB = 2 ** 20;
let dir = "";
let server: ReturnType<typeof Bun.serve>;
let base = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bunvirt-import-bin-"));
  const disk = new Uint8Array(2 * MiB).fill(7, 0, 4096);
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => (new URL(req.url).pathname === "/disk.raw" ? new Response(disk) : new Response("nope", { status: 404 })) });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.stop(true);
  await rm(dir, { recursive: true, force: true });
});

const template = (name: string, path: string): string =>
  JSON.stringify({ metadata: { name }, spec: { source: { http: { url: `${base}${path}` } }, storage: { resources: { requests: { storage: "2Mi" } } } } });

describe("bunvirt import (the executable)", () => {
  test("imports into the claim, prints CDI-style progress, exit 0, the termination message says so", async () => {
    const claim = join(dir, "ok");
    await mkdir(claim);
    const log = join(dir, "ok.log");
    const r = await runBunvirt(["import", "--data-volume-json", "-", "--claim", `ok=${claim}`, "--termination-log", log, "--cache-dir", join(dir, "cache")], { stdin: template("ok", "/disk.raw") });
    expect(r.stderr).not.toContain("Cannot");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("progress: 100.00%");
    expect(await readFile(log, "utf8")).toBe('Import Complete: DataVolume "ok"');
    const written = await readFile(join(claim, "disk.img"));
    expect(written.length).toBe(2 * MiB);
    expect(written[0]).toBe(7);
  });

  test("a failed import: exit 1, the reason short on stderr and in the termination message", async () => {
    const claim = join(dir, "bad");
    await mkdir(claim);
    const log = join(dir, "bad.log");
    const r = await runBunvirt(["import", "--data-volume-json", "-", "--claim", `bad=${claim}`, "--termination-log", log], { stdin: template("bad", "/missing") });
    expect(r.code).toBe(1);
    const message = await readFile(log, "utf8");
    expect(message).toStartWith('Cannot import DataVolume "bad"');
    expect(message.length).toBeLessThan(1024);
    expect(r.stderr).toContain(message);
  });

  test("no claim for the DataVolume is a usage error, exit 2", async () => {
    const r = await runBunvirt(["import", "--data-volume-json", "-"], { stdin: template("x", "/disk.raw") });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("import needs --claim x=DIR");
  });
});
