import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importCommand, parseDataVolume, terminationMessage } from "./import.ts";
import { UsageError } from "./usage.ts";

const MiB = 2 ** 20;
let dir = "";
let server: ReturnType<typeof Bun.serve>;
let base = "";
const disk = new Uint8Array(3 * MiB).fill(0x5a, 0, MiB);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bunvirt-import-cli-"));
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => (new URL(req.url).pathname === "/disk.raw" ? new Response(disk) : new Response("no such image", { status: 404 })),
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await server.stop(true);
  await rm(dir, { recursive: true, force: true });
});

const dv = (name: string, url: string): object => ({
  apiVersion: "cdi.kubevirt.io/v1beta1",
  kind: "DataVolume",
  metadata: { name, namespace: "ns1", uid: "ignored", ownerReferences: [] },
  spec: { source: { http: { url } }, storage: { resources: { requests: { storage: "4Mi" } } } },
});

async function run(name: string, url: string): Promise<{ code: number; out: string[]; err: string[]; claim: string; termination: string }> {
  const claim = join(dir, name);
  await mkdir(claim, { recursive: true });
  const json = join(dir, `${name}.json`);
  await writeFile(json, JSON.stringify(dv(name, url)));
  const termination = join(dir, `${name}.termination`);
  const out: string[] = [];
  const err: string[] = [];
  const code = await importCommand(["--data-volume-json", json, "--claim", `${name}=${claim}`, "--termination-log", termination, "--cache-dir", join(dir, "cache")], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out, err, claim, termination: await readFile(termination, "utf8") };
}

describe("bunvirt import", () => {
  test("an http source from 127.0.0.1 lands in the claim's disk.img, sized as requested; 100.00% and the outcome are printed", async () => {
    const r = await run("fedora", `${base}/disk.raw`);
    expect(r.code).toBe(0);
    expect(r.out).toContain("progress: 100.00%");
    expect(r.out.at(-1)).toBe('Import Complete: DataVolume "fedora"');
    expect(r.termination).toBe('Import Complete: DataVolume "fedora"');
    const written = await readFile(join(r.claim, "disk.img"));
    expect(written.length).toBe(4 * MiB);
    expect(written.subarray(0, MiB).every((b) => b === 0x5a)).toBe(true);
    expect(written.subarray(MiB).every((b) => b === 0)).toBe(true);
  });

  test("a claim imported before is left alone: exit 0, nothing fetched", async () => {
    const before = await stat(join(dir, "fedora", "disk.img"));
    const r = await run("fedora", `${base}/gone`);
    expect(r.code).toBe(0);
    expect(r.termination).toBe('Import Complete: DataVolume "fedora" was imported before');
    expect((await stat(join(dir, "fedora", "disk.img"))).mtimeMs).toBe(before.mtimeMs);
  });

  test("a failed import exits 1 with the reason as the termination message, and leaves the claim empty", async () => {
    const r = await run("broken", `${base}/missing.raw`);
    expect(r.code).toBe(1);
    expect(r.termination).toStartWith('Cannot import DataVolume "broken"');
    expect(r.termination).toContain("404");
    expect(r.err.join("\n")).toContain("404");
    expect(await Bun.file(join(r.claim, "disk.img")).exists()).toBe(false);
  });

  test("usage errors: no DataVolume, no claim for it, a bad DataVolume naming the field", async () => {
    const io = { out: () => undefined, err: () => undefined };
    await expect(importCommand([], io)).rejects.toThrow(UsageError);
    const json = join(dir, "x.json");
    await writeFile(json, JSON.stringify(dv("x", `${base}/disk.raw`)));
    await expect(importCommand(["--data-volume-json", json], io)).rejects.toThrow('import needs --claim x=DIR');
    expect(() => parseDataVolume(JSON.stringify({ metadata: { name: "x" }, spec: { source: { s3: { url: "s3://b" } } } }), "stdin")).toThrow("spec.source");
    expect(() => parseDataVolume("{", "stdin")).toThrow("Cannot read the DataVolume from stdin");
  });
});

describe("termination messages", () => {
  test("a termination message is one line of at most 1024 bytes", () => {
    expect(terminationMessage("a\n  b")).toBe("a b");
    const long = terminationMessage("é".repeat(2000));
    expect(new TextEncoder().encode(long).length).toBeLessThanOrEqual(1024);
    expect(long).toEndWith("...");
  });
});
