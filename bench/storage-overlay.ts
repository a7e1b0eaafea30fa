/**
 * Benchmark: how long a second VM on an already cached containerDisk waits
 * for its disk (goal < 50 ms) and how many bytes it fetches (goal 0). The
 * containerDisk provider resolves the tag at a local docker-registry, finds
 * the disk in the node cache and creates the VM's qcow2 overlay. Printed
 * beside its peers: the bare `qemu-img create -b` (the floor), the same
 * prepare with a digest-pinned reference (no registry request), and a full
 * copy of the cached disk (what a copy-per-VM provider would pay).
 *
 *   bun bench/storage-overlay.ts [--runs 20] [--disk-mib 256]
 *
 * Needs docker-registry, skopeo, umoci, qemu-img (qemu-utils).
 */
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { containerDiskProvider } from "../src/storage/container-disk-provider.ts";
import type { PreparedDisk, VolumeContext } from "../src/storage/provider.ts";
import { silentLog } from "../src/storage/provider.ts";
import { buildOciImage, pushWithSkopeo, run } from "../tests/host/fixtures/registry/images.ts";
import { startRegistry } from "../tests/host/fixtures/registry/registry.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { runs: { type: "string", default: "20" }, "disk-mib": { type: "string", default: "256" } },
});
const runs = Math.max(1, Number(values.runs));
const diskMiB = Math.max(1, Number(values["disk-mib"]));
const GOAL_MS = 50;

for (const tool of ["docker-registry", "skopeo", "umoci", "qemu-img", "qemu-io"]) {
  if (Bun.which(tool) === null) {
    console.error(`Cannot run the benchmark: '${tool}' is missing (apt-get install ${tool.startsWith("qemu") ? "qemu-utils" : tool})`);
    process.exit(2);
  }
}

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return `median ${at(0.5).toFixed(1).padStart(6)} ms   p95 ${at(0.95).toFixed(1).padStart(6)} ms   min ${(s[0] ?? Number.NaN).toFixed(1).padStart(6)} ms`;
}

const work = await mkdtemp(join(tmpdir(), "bunvirt-bench-overlay-"));
const registry = await startRegistry();
try {
  // A disk with 32 MiB of random data (gzip cannot shrink it), so the first pull is real work.
  const disk = join(work, "disk.qcow2");
  await run(["qemu-img", "create", "-q", "-f", "qcow2", disk, `${diskMiB}M`]);
  const random = join(work, "random.raw");
  await Bun.write(random, crypto.getRandomValues(new Uint8Array(32 * 1024 * 1024)).buffer as ArrayBuffer);
  await run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", random, disk]);
  await run(["qemu-img", "resize", "-q", "-f", "qcow2", disk, `${Math.max(diskMiB, 32)}M`]);
  const layout = join(work, "oci");
  await buildOciImage(layout, "v1", [{ add: { "/disk/disk.qcow2": disk } }]);
  const image = `${registry.host}/bench/vm:v1`;
  await pushWithSkopeo(layout, "v1", image);

  const cacheDir = join(work, "node-cache");
  const provider = containerDiskProvider();
  let vm = 0;
  const prepareVm = async (reference: string): Promise<{ ms: number; disk: PreparedDisk }> => {
    const stateDir = join(work, "vms", `vm-${++vm}`);
    await mkdir(stateDir, { recursive: true });
    const ctx: VolumeContext = {
      stateDir,
      claims: {},
      secrets: {},
      registry: { cacheDir, insecureRegistries: [registry.host] },
      vmi: { namespace: "bench", name: `vm-${vm}` },
      log: silentLog,
    };
    const t0 = performance.now();
    const d = await provider.prepare({ name: "rootdisk", containerDisk: { image: reference } }, ctx);
    return { ms: performance.now() - t0, disk: d };
  };

  console.log(`containerDisk overlay on a cache hit, ${runs} VMs (goal: < ${GOAL_MS} ms, 0 bytes fetched)`);
  const first = await prepareVm(image);
  console.log(`  first VM (cold cache)                  ${first.ms.toFixed(1).padStart(8)} ms   ${first.disk.bytesFetched} bytes fetched`);

  const tagged: number[] = [];
  let fetched = 0;
  for (let i = 0; i < runs; i++) {
    const r = await prepareVm(image);
    tagged.push(r.ms);
    fetched += r.disk.bytesFetched ?? 0;
  }
  console.log(`  next VMs, tag reference                ${stats(tagged)}   ${fetched} bytes fetched in all`);

  const info = JSON.parse(await run(["qemu-img", "info", "--output=json", "-U", first.disk.path])) as { "backing-filename": string };
  const cached = info["backing-filename"];
  const digest = /sha256\/([a-f0-9]{64})/.exec(cached)?.[1];
  if (digest !== undefined) {
    const pinned: number[] = [];
    let pinnedFetched = 0;
    for (let i = 0; i < runs; i++) {
      const r = await prepareVm(`${registry.host}/bench/vm@sha256:${digest}`);
      pinned.push(r.ms);
      pinnedFetched += r.disk.bytesFetched ?? 0;
    }
    console.log(`  next VMs, digest-pinned reference      ${stats(pinned)}   ${pinnedFetched} bytes fetched in all`);
  }

  const floor: number[] = [];
  const copies: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = join(work, `floor-${i}.qcow2`);
    const t0 = performance.now();
    await run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", cached, out]);
    floor.push(performance.now() - t0);
    await rm(out);
  }
  console.log(`  peer: bare qemu-img create -b (floor)  ${stats(floor)}`);
  for (let i = 0; i < Math.min(runs, 5); i++) {
    const out = join(work, `copy-${i}.qcow2`);
    const t0 = performance.now();
    await copyFile(cached, out);
    copies.push(performance.now() - t0);
    await rm(out);
  }
  console.log(`  peer: full copy of the cached disk     ${stats(copies)}   (${(Bun.file(cached).size / 1024 / 1024).toFixed(1)} MiB per VM)`);
  const median = [...tagged].sort((a, b) => a - b)[Math.floor(tagged.length / 2)] ?? Number.NaN;
  console.log(`  goal: ${median < GOAL_MS && fetched === 0 ? "met" : "NOT met"} (median ${median.toFixed(1)} ms, ${fetched} bytes fetched)`);
} finally {
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}
