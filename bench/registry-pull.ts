/**
 * Benchmark: cold pull of a >= 200 MB container disk by bunvirt's in-process
 * registry client vs `skopeo copy` from the same local docker-registry, then
 * a second (cached) pull.
 *
 *   bun bench/registry-pull.ts [--size-mib 256] [--runs 3]
 *
 * Needs docker-registry, skopeo, umoci, qemu-img (Debian packages of the
 * same names, qemu-utils). The image (random data, so gzip cannot shrink it)
 * is built once into /var/cache/bunvirt/registry-bench-<version>/.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pullDisk, type PullProgress } from "../src/storage/registry/index.ts";
import { buildOciImage, pushWithSkopeo, run } from "../tests/host/fixtures/registry/images.ts";
import { startRegistry } from "../tests/host/fixtures/registry/registry.ts";

const VERSION = 1;
const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { "size-mib": { type: "string", default: "256" }, runs: { type: "string", default: "3" } },
});
const sizeMiB = Number(values["size-mib"]);
const runs = Math.max(1, Number(values.runs));

for (const tool of ["docker-registry", "skopeo", "umoci", "qemu-img"]) {
  if (Bun.which(tool) === null) {
    console.error(`Cannot run the benchmark: '${tool}' is missing (apt-get install ${tool === "qemu-img" ? "qemu-utils" : tool})`);
    process.exit(2);
  }
}

const artefacts = `/var/cache/bunvirt/registry-bench-${VERSION}/${sizeMiB}mib`;
const layout = join(artefacts, "oci");
const ready = join(artefacts, ".ready");

async function buildImage(): Promise<void> {
  if (existsSync(ready)) return;
  console.log(`building a ${sizeMiB} MiB random-data qcow2 image in ${artefacts} (once)...`);
  await rm(artefacts, { recursive: true, force: true });
  await mkdir(artefacts, { recursive: true });
  const raw = join(artefacts, "disk.raw");
  const writer = Bun.file(raw).writer();
  const chunk = new Uint8Array(1024 * 1024);
  for (let i = 0; i < sizeMiB; i++) {
    for (let o = 0; o < chunk.length; o += 65536) crypto.getRandomValues(chunk.subarray(o, o + 65536));
    writer.write(chunk);
    await writer.flush();
  }
  await writer.end();
  const qcow2 = join(artefacts, "disk.qcow2");
  await run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow2]);
  await rm(raw);
  await buildOciImage(layout, "bench", [{ add: { "/disk/disk.qcow2": qcow2 } }]);
  await rm(qcow2);
  await writeFile(ready, new Date().toISOString());
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function time<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await f();
  return { ms: performance.now() - t, value };
}

await buildImage();
const registry = await startRegistry();
const scratch = await mkdtemp(join(tmpdir(), "bunvirt-bench-"));
try {
  const ref = `${registry.host}/bench/disk:v1`;
  await pushWithSkopeo(layout, "bench", ref);

  const bunvirtMs: number[] = [];
  const bunvirtProcMs: number[] = [];
  const skopeoOciMs: number[] = [];
  const skopeoDirMs: number[] = [];
  let cold = { bytesFetched: 0, bytes: 0, cacheDir: "" };
  let progressReports = 0;
  // Warm the registry's page cache once so the first measured run is not penalized.
  await run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `dir:${join(scratch, "warm")}`]);
  await rm(join(scratch, "warm"), { recursive: true, force: true });

  for (let i = 0; i < runs; i++) {
    const cacheDir = join(scratch, `cache-${i}`);
    const r = await time(() =>
      pullDisk(ref, { cacheDir, insecureRegistries: [registry.host], onProgress: (_p: PullProgress) => void progressReports++ }),
    );
    bunvirtMs.push(r.ms);
    cold = { bytesFetched: r.value.bytesFetched, bytes: r.value.bytes, cacheDir };

    const procCache = join(scratch, `proc-cache-${i}`);
    const worker = join(import.meta.dir, "..", "tests", "host", "fixtures", "registry", "pull-worker.ts");
    bunvirtProcMs.push((await time(() => run([process.execPath, worker, ref, procCache, registry.host]))).ms);

    const oci = join(scratch, `oci-${i}`);
    skopeoOciMs.push((await time(() => run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `oci:${oci}:v1`]))).ms);
    const dir = join(scratch, `dir-${i}`);
    skopeoDirMs.push((await time(() => run(["skopeo", "copy", "--quiet", "--src-tls-verify=false", `docker://${ref}`, `dir:${dir}`]))).ms);
    await Promise.all([oci, dir, procCache].map((d) => rm(d, { recursive: true, force: true })));
    if (i < runs - 1) await rm(cacheDir, { recursive: true, force: true });
  }
  const warm = await time(() => pullDisk(ref, { cacheDir: cold.cacheDir, insecureRegistries: [registry.host] }));

  const peer = Math.min(median(skopeoOciMs), median(skopeoDirMs));
  const ratio = median(bunvirtMs) / peer;
  console.log(`\nregistry pull benchmark: ${mib(cold.bytes)} qcow2 disk (random data), blobs ${mib(cold.bytesFetched)}, median of ${runs} run(s)\n`);
  console.log("                                    time        note");
  console.log(`bunvirt pull, cold (in process)     ${fmt(median(bunvirtMs)).padEnd(10)}  fetch + sha256 + gunzip + tar -> ${mib(cold.bytes)} disk file, ${progressReports} progress reports`);
  console.log(`bunvirt pull, cold (own process)    ${fmt(median(bunvirtProcMs)).padEnd(10)}  incl. bun start-up`);
  console.log(`skopeo copy docker:// -> oci:       ${fmt(median(skopeoOciMs)).padEnd(10)}  peer: stores the compressed blob only`);
  console.log(`skopeo copy docker:// -> dir:       ${fmt(median(skopeoDirMs)).padEnd(10)}  peer`);
  console.log(`bunvirt pull, second (cache hit)    ${fmt(warm.ms).padEnd(10)}  ${warm.value.bytesFetched} blob bytes fetched`);
  console.log("");
  console.log(`goal: cold pull <= 1.2x skopeo     ${ratio.toFixed(2)}x the faster skopeo  ${ratio <= 1.2 ? "MET" : "NOT MET"}`);
  console.log(`goal: second pull 0 bytes fetched  ${warm.value.bytesFetched} bytes  ${warm.value.bytesFetched === 0 && warm.value.cacheHit ? "MET" : "NOT MET"}`);
  console.log(`(all runs: bunvirt ${bunvirtMs.map(fmt).join(", ")}; skopeo oci ${skopeoOciMs.map(fmt).join(", ")}; skopeo dir ${skopeoDirMs.map(fmt).join(", ")})`);
} finally {
  await registry.stop();
  await rm(scratch, { recursive: true, force: true });
}
