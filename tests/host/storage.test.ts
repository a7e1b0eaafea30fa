/**
 * Host tier: the volume providers on real parts. The shared contract suite
 * for every provider with `qemu-img info` as the judge of formats; an
 * ephemeral overlay written through with qemu-io while the claim's checksum
 * stays put; a claim's disk.img symlinked out of the claim; a block-mode
 * claim on a loop device; container disks pulled from a real docker-registry
 * on 127.0.0.1 (images built with umoci, pushed with skopeo), a second VM on
 * the same image fetching nothing; `bunvirt volumes` end to end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmod, mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { volumesCommand } from "../../src/cli/volumes.ts";
import { providerContract, snapshot, type ContractCase, type ContractFixtures } from "../contracts/storage-provider.ts";
import {
  containerDiskProvider,
  emptyDiskProvider,
  ephemeralProvider,
  noCloudProvider,
  prepareVolumes,
  pvcProvider,
  StorageError,
  type Volume,
} from "../../src/storage/index.ts";
import { qemuImgInfo } from "../../src/storage/qemu-img.ts";
import { contextOf, mountedSecret, noCloudFixtures, pvcFixtures, recordingLog, TempDirs } from "../lib/storage.ts";
import { hostDiskFixtures, qemuForTests } from "../lib/host-disk-fixtures.ts";
import { hostDiskProvider } from "../../src/storage/host-disk/host-disk-provider.ts";
import { buildOciImage, makeQcow2, pushWithSkopeo, run } from "./fixtures/registry/images.ts";
import { startRegistry, type RunningRegistry } from "./fixtures/registry/registry.ts";
import { command, hostTier, root } from "../lib/host.ts";

const skip = hostTier("storage", [command("qemu-img", "qemu-utils"), command("qemu-io", "qemu-utils")]);
const skipRegistry = hostTier("storage-registry", [
  command("qemu-img", "qemu-utils"),
  command("docker-registry", "docker-registry"),
  command("skopeo", "skopeo"),
  command("umoci", "umoci"),
]);
const skipBlock = hostTier("storage-block", [root, command("losetup", "mount")]);

const MiB = 1024 * 1024;
const HOST = { formatCheck: "qemu-img" as const, timeoutMs: 60_000 };

async function sha256File(path: string): Promise<string> {
  return new Bun.CryptoHasher("sha256").update(new Uint8Array(await readFile(path))).digest("hex");
}

/** A qemu-img that leaves a partial file at its temporary output, then fails (a failure part-way). */
async function failingQemuImg(dir: string): Promise<string> {
  const path = join(dir, "qemu-img-fails");
  await writeFile(path, '#!/bin/sh\nfor a in "$@"; do case "$a" in *.tmp-*) printf "QFI\\373partial" > "$a";; esac; done\necho "qemu-img: injected failure" >&2\nexit 1\n');
  await chmod(path, 0o755);
  return path;
}

// ---------------------------------------------------------------- fixtures

/** A claim directory holding a raw disk.img of 8 MiB with a pattern in its first MiB. */
async function claimWithDisk(dirs: TempDirs, name = "golden"): Promise<{ root: string; stateDir: string; claimDir: string; disk: string }> {
  const root = await dirs.make("bunvirt-host-storage-");
  const stateDir = join(root, "state");
  const claimDir = join(root, "claims", name);
  await mkdir(stateDir, { recursive: true });
  await mkdir(claimDir, { recursive: true });
  const disk = join(claimDir, "disk.img");
  await run(["qemu-img", "create", "-q", "-f", "raw", disk, "8M"]);
  await run(["qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 1M", disk]);
  return { root, stateDir, claimDir, disk };
}

function ephemeralFixtures(dirs: TempDirs): ContractFixtures {
  const vol = (claimName = "golden"): Volume => ({ name: "scratch", ephemeral: { persistentVolumeClaim: { claimName } } });
  const good = async (): Promise<ContractCase> => {
    const c = await claimWithDisk(dirs);
    return { volume: vol(), ctx: contextOf({ stateDir: c.stateDir, claims: { golden: { path: c.claimDir } } }), watch: [c.stateDir, c.claimDir] };
  };
  return {
    good,
    failing: [
      {
        title: "qemu-img fails after writing part of the overlay",
        error: /cannot create the overlay .*injected failure/,
        make: async () => ({ ...(await good()), provider: ephemeralProvider({ qemuImg: await failingQemuImg(await dirs.make()) }) }),
      },
    ],
    bad: [
      {
        title: "the claim holds no disk.img (an ephemeral volume never creates one)",
        error: /claim "golden" holds no disk\.img/,
        make: async () => {
          const c = await claimWithDisk(dirs);
          await rm(c.disk);
          return { volume: vol(), ctx: contextOf({ stateDir: c.stateDir, claims: { golden: { path: c.claimDir, capacity: 8 * MiB } } }), watch: [c.stateDir, c.claimDir] };
        },
      },
      {
        title: "disk.img is a symlink out of the claim",
        error: /is a symlink to "\/etc\/hostname", outside the claim directory/,
        make: async () => {
          const c = await claimWithDisk(dirs);
          await rm(c.disk);
          await symlink("/etc/hostname", c.disk);
          return { volume: vol(), ctx: contextOf({ stateDir: c.stateDir, claims: { golden: { path: c.claimDir } } }), watch: [c.stateDir, c.claimDir] };
        },
      },
    ],
    dispose: () => dirs.dispose(),
  };
}

function emptyDiskFixtures(dirs: TempDirs): ContractFixtures {
  const good = async (capacity: string | number = "64Mi"): Promise<ContractCase> => {
    const root = await dirs.make("bunvirt-host-storage-");
    await mkdir(join(root, "state"));
    return { volume: { name: "scratch", emptyDisk: { capacity } }, ctx: contextOf({ stateDir: join(root, "state") }) };
  };
  return {
    good: () => good(),
    failing: [
      {
        title: "qemu-img fails after writing part of the disk",
        error: /cannot create the empty disk .*injected failure/,
        make: async () => ({ ...(await good()), provider: emptyDiskProvider({ qemuImg: await failingQemuImg(await dirs.make()) }) }),
      },
    ],
    bad: [
      { title: "a capacity of zero", error: /emptyDisk\.capacity "0" is not a positive size/, make: () => good("0") },
      { title: "a capacity that is not a quantity", error: /emptyDisk\.capacity "lots" is not a quantity/, make: () => good("lots") },
    ],
    dispose: () => dirs.dispose(),
  };
}

// ---------------------------------------------------------------- contract, no registry

describe.skipIf(skip !== null)("storage providers on real qemu-img", () => {
  providerContract("persistentVolumeClaim (filesystem mode)", pvcProvider, pvcFixtures(new TempDirs()), HOST);
  providerContract("ephemeral", () => ephemeralProvider(), ephemeralFixtures(new TempDirs()), HOST);
  providerContract("emptyDisk", () => emptyDiskProvider(), emptyDiskFixtures(new TempDirs()), HOST);
  providerContract("cloudInitNoCloud", noCloudProvider, noCloudFixtures(new TempDirs()), HOST);
  providerContract("hostDisk", () => hostDiskProvider({ qemu: qemuForTests }), hostDiskFixtures(new TempDirs()), HOST);

  const dirs = new TempDirs();
  afterAll(() => dirs.dispose());

  test("ephemeral: a write through the overlay never reaches the claim's disk", async () => {
    const c = await claimWithDisk(dirs);
    const before = await sha256File(c.disk);
    const ctx = contextOf({ stateDir: c.stateDir, claims: { golden: { path: c.claimDir } } });
    const volume: Volume = { name: "scratch", ephemeral: { persistentVolumeClaim: { claimName: "golden" } } };
    const r = await ephemeralProvider().prepare(volume, ctx);
    const info = await qemuImgInfo(r.path);
    expect(info.format).toBe("qcow2");
    expect(info["backing-filename"]).toBe(c.disk);
    expect(info["backing-filename-format"]).toBe("raw");
    expect(info["virtual-size"]).toBe(8 * MiB);
    await run(["qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 64k", r.path]);
    const overlayRead = await run(["qemu-io", "-f", "qcow2", "-c", "read -P 0xab 0 64k", "-c", "read -P 0x5a 64k 64k", r.path]);
    expect(overlayRead).not.toContain("Pattern verification failed");
    expect(await sha256File(c.disk)).toBe(before);
    const backingRead = await run(["qemu-io", "-r", "-f", "raw", "-c", "read -P 0x5a 0 64k", c.disk]);
    expect(backingRead).not.toContain("Pattern verification failed");
    expect(await ephemeralProvider().cleanup(volume, ctx)).toEqual([r.path]);
    expect(await sha256File(c.disk)).toBe(before);
  });

  test("ephemeral on a qcow2 claim disk: the backing format is read from the content", async () => {
    const c = await claimWithDisk(dirs);
    await rm(c.disk);
    await makeQcow2(c.disk, 8, 0x33); // qcow2 content under the name disk.img
    const ctx = contextOf({ stateDir: c.stateDir, claims: { golden: { path: c.claimDir } } });
    const r = await ephemeralProvider().prepare({ name: "scratch", ephemeral: { persistentVolumeClaim: { claimName: "golden" } } }, ctx);
    expect((await qemuImgInfo(r.path))["backing-filename-format"]).toBe("qcow2");
    expect((await pvcProvider().prepare({ name: "d", persistentVolumeClaim: { claimName: "golden" } }, ctx)).format).toBe("qcow2");
  });

  test("persistentVolumeClaim: a created disk.img is a sparse raw disk of the claim's size", async () => {
    const root = await dirs.make();
    await mkdir(join(root, "state"));
    await mkdir(join(root, "claim"));
    const r = await pvcProvider().prepare({ name: "data", persistentVolumeClaim: { claimName: "c" } }, contextOf({ stateDir: join(root, "state"), claims: { c: { path: join(root, "claim"), capacity: 2 * 1024 * MiB } } }));
    const info = await qemuImgInfo(r.path);
    expect(info.format).toBe("raw");
    expect(info["virtual-size"]).toBe(2 * 1024 * MiB);
  });

  test("persistentVolumeClaim: disk.img symlinked out of the claim is refused, naming it, and nothing is created", async () => {
    const root = await dirs.make();
    const claimDir = join(root, "claim");
    await mkdir(join(root, "state"));
    await mkdir(claimDir);
    await writeFile(join(root, "host-secret.img"), "not yours");
    await symlink(join(root, "host-secret.img"), join(claimDir, "disk.img"));
    const before = await snapshot([root]);
    const ctx = contextOf({ stateDir: join(root, "state"), claims: { c: { path: claimDir, capacity: 8 * MiB } } });
    for (const provider of [pvcProvider(), ephemeralProvider()]) {
      const volume: Volume = provider.kind === "ephemeral" ? { name: "d", ephemeral: { persistentVolumeClaim: { claimName: "c" } } } : { name: "d", persistentVolumeClaim: { claimName: "c" } };
      const e = await provider.prepare(volume, ctx).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(StorageError);
      expect((e as Error).message).toContain(`"${join(claimDir, "disk.img")}" is a symlink to "${join(root, "host-secret.img")}", outside the claim directory "${claimDir}"`);
    }
    expect(await snapshot([root])).toEqual(before);
  });

  test("emptyDisk: qemu-img sees a qcow2 of the capacity, sparse", async () => {
    const root = await dirs.make();
    const r = await emptyDiskProvider().prepare({ name: "e", emptyDisk: { capacity: "10Gi" } }, contextOf({ stateDir: root }));
    const info = await qemuImgInfo(r.path);
    expect(info.format).toBe("qcow2");
    expect(info["virtual-size"]).toBe(10 * 1024 * MiB);
    expect(info["backing-filename"]).toBeUndefined();
    expect(Bun.file(r.path).size).toBeLessThan(MiB);
  });

  test("cloudInitNoCloud: a missing Secret and user data over 2048 bytes are refused, nothing written", async () => {
    const root = await dirs.make();
    const ctx = contextOf({ stateDir: root });
    const missing = await noCloudProvider().prepare({ name: "ci", cloudInitNoCloud: { secretRef: { name: "nope" } } }, ctx).catch((x: unknown) => x);
    expect((missing as Error).message).toBe('Cannot prepare volume "ci": the user-data Secret "nope" is not mounted in this pod (looked for keys "userdata", "userData")');
    const big = await noCloudProvider().prepare({ name: "ci", cloudInitNoCloud: { userData: "#".repeat(2049) } }, ctx).catch((x: unknown) => x);
    expect((big as Error).message).toContain("user data is 2049 bytes; at most 2048 are allowed");
    expect(await readdir(root)).toEqual([]);
  });

  test("cloudInitNoCloud: xorriso reads the cidata ISO back", async () => {
    const root = await dirs.make();
    const r = await noCloudProvider().prepare({ name: "ci", cloudInitNoCloud: { userData: "#cloud-config\nhostname: h\n", networkData: "version: 2\n" } }, contextOf({ stateDir: root }));
    if (Bun.which("xorriso") === null) return;
    const listing = await run(["xorriso", "-indev", r.path, "-find", "/", "-type", "f"]).catch((e: Error) => e.message);
    for (const f of ["meta-data", "user-data", "network-config"]) expect(listing).toContain(`/${f}`);
  });
});

// ---------------------------------------------------------------- block mode

describe.skipIf(skip !== null || skipBlock !== null)("persistentVolumeClaim in block mode (a loop device)", () => {
  const dirs = new TempDirs();
  const loops: string[] = [];
  afterAll(async () => {
    for (const l of loops) await run(["losetup", "-d", l]).catch(() => "");
    await dirs.dispose();
  });
  const fixtures: ContractFixtures = {
    good: async () => {
      const root = await dirs.make();
      await mkdir(join(root, "state"));
      const backing = join(root, "block.img");
      await run(["qemu-img", "create", "-q", "-f", "raw", backing, "16M"]);
      const loop = (await run(["losetup", "--find", "--show", backing])).trim();
      loops.push(loop);
      return { volume: { name: "blk", persistentVolumeClaim: { claimName: "b" } }, ctx: contextOf({ stateDir: join(root, "state"), claims: { b: { path: loop } } }) };
    },
    failing: [],
    bad: [],
    dispose: async () => undefined,
  };
  providerContract("persistentVolumeClaim (block mode)", pvcProvider, fixtures, HOST);

  test("the device itself is the disk, raw, block", async () => {
    const c = await fixtures.good();
    const r = await pvcProvider().prepare(c.volume, c.ctx);
    expect(r).toMatchObject({ kind: "persistentVolumeClaim", path: c.ctx.claims.b?.path, format: "raw", block: true });
    expect((await qemuImgInfo(r.path))["virtual-size"]).toBe(16 * MiB);
  });
});

// ---------------------------------------------------------------- containerDisk on a real registry

describe.skipIf(skipRegistry !== null)("containerDisk from a real docker-registry on 127.0.0.1", () => {
  const dirs = new TempDirs();
  let registry: RunningRegistry;
  let work = "";
  let cacheDir = "";
  let diskSha = "";

  beforeAll(async () => {
    work = await dirs.make("bunvirt-host-cd-");
    cacheDir = join(work, "node-cache");
    registry = await startRegistry();
    const disk = join(work, "src", "disk.qcow2");
    await makeQcow2(disk, 16, 0x6b);
    diskSha = await sha256File(disk);
    const layout = join(work, "oci");
    await buildOciImage(layout, "v1", [{ add: { "/disk/disk.qcow2": disk } }]);
    await buildOciImage(layout, "custom", [{ add: { "/images/vm/root.qcow2": disk, "/disk/other.qcow2": disk } }]);
    await pushWithSkopeo(layout, "v1", `${registry.host}/vms/alpine:v1`);
    await pushWithSkopeo(layout, "custom", `${registry.host}/vms/custom:1`);
  }, 120_000);

  afterAll(async () => {
    await registry?.stop();
    await dirs.dispose();
  });

  const settings = (): { cacheDir: string; insecureRegistries: string[] } => ({ cacheDir, insecureRegistries: [registry.host] });

  async function vmState(): Promise<string> {
    const d = join(await dirs.make("bunvirt-host-vm-"), "state");
    await mkdir(d);
    return d;
  }

  const fixtures: ContractFixtures = {
    good: async () => ({ volume: { name: "rootdisk", containerDisk: { image: `${registry.host}/vms/alpine:v1` } }, ctx: contextOf({ stateDir: await vmState(), registry: settings() }) }),
    failing: [
      {
        title: "the image is not in the registry",
        error: /cannot pull ".*vms\/absent:v1": /,
        make: async () => ({ volume: { name: "rootdisk", containerDisk: { image: `${registry.host}/vms/absent:v1` } }, ctx: contextOf({ stateDir: await vmState(), registry: settings() }) }),
      },
      {
        title: "qemu-img fails after the pull, with part of the overlay written",
        error: /cannot create the overlay .*injected failure/,
        make: async () => ({
          volume: { name: "rootdisk", containerDisk: { image: `${registry.host}/vms/alpine:v1` } },
          ctx: contextOf({ stateDir: await vmState(), registry: settings() }),
          provider: containerDiskProvider({ qemuImg: await failingQemuImg(await dirs.make()) }),
        }),
      },
    ],
    bad: [
      {
        title: "a path with ..",
        error: /containerDisk\.path ".*" is unusable: it must not contain "\.\."/,
        make: async () => ({ volume: { name: "rootdisk", containerDisk: { image: `${registry.host}/vms/alpine:v1`, path: "/disk/../../etc/shadow" } }, ctx: contextOf({ stateDir: await vmState(), registry: settings() }) }),
      },
      {
        title: "a pull Secret that is not mounted",
        error: /the image pull Secret "regcred" is not mounted/,
        make: async () => ({ volume: { name: "rootdisk", containerDisk: { image: `${registry.host}/vms/alpine:v1`, imagePullSecret: "regcred" } }, ctx: contextOf({ stateDir: await vmState(), registry: settings() }) }),
      },
    ],
    dispose: async () => undefined,
  };
  providerContract("containerDisk", () => containerDiskProvider(), fixtures, HOST);

  test("the first VM pulls; a second VM on the same image fetches 0 bytes and gets its own overlay quickly", async () => {
    const cold = join(work, "cold-cache");
    const volume: Volume = { name: "rootdisk", containerDisk: { image: `${registry.host}/vms/alpine:v1` } };
    const ctx1 = contextOf({ stateDir: await vmState(), registry: { cacheDir: cold, insecureRegistries: [registry.host] } });
    const first = await containerDiskProvider().prepare(volume, ctx1);
    expect(first.cacheHit).toBe(false);
    expect(first.bytesFetched).toBeGreaterThan(0);
    const ctx2 = contextOf({ stateDir: await vmState(), registry: { cacheDir: cold, insecureRegistries: [registry.host] } });
    const t0 = performance.now();
    const second = await containerDiskProvider().prepare(volume, ctx2);
    const ms = performance.now() - t0;
    console.log(`containerDisk: second VM's overlay ready in ${ms.toFixed(1)} ms (goal < 50 ms), ${second.bytesFetched} bytes fetched (goal 0); first VM fetched ${first.bytesFetched} bytes`);
    expect(second.cacheHit).toBe(true);
    expect(second.bytesFetched).toBe(0);
    expect(second.path).not.toBe(first.path);
    const [i1, i2] = [await qemuImgInfo(first.path), await qemuImgInfo(second.path)];
    expect(i1.format).toBe("qcow2");
    expect(i2["backing-filename"]).toBe(i1["backing-filename"]);
    expect(i1["backing-filename"]?.startsWith(`${cold}/`)).toBe(true);
    expect(i1["backing-filename-format"]).toBe("qcow2");
    // The cached disk is the image's disk, and stays so after a VM writes.
    const cached = i1["backing-filename"] as string;
    expect(await sha256File(cached)).toBe(diskSha);
    await run(["qemu-io", "-f", "qcow2", "-c", "write -P 0xee 0 1M", first.path]);
    expect(await sha256File(cached)).toBe(diskSha);
    expect(await run(["qemu-io", "-r", "-f", "qcow2", "-c", "read -P 0x6b 0 1M", second.path])).not.toContain("Pattern verification failed");
  });

  test("the volume's path picks the disk file in the image", async () => {
    const r = await containerDiskProvider().prepare(
      { name: "rootdisk", containerDisk: { image: `${registry.host}/vms/custom:1`, path: "/images/vm/root.qcow2" } },
      contextOf({ stateDir: await vmState(), registry: settings() }),
    );
    const info = await qemuImgInfo(r.path);
    expect(info["virtual-size"]).toBe(16 * MiB);
    expect(await sha256File(info["backing-filename"] as string)).toBe(diskSha);
  });

  test("imagePullPolicy Never uses the node cache by digest, without the registry", async () => {
    const log = recordingLog();
    const first = await containerDiskProvider().prepare({ name: "rootdisk", containerDisk: { image: `${registry.host}/vms/alpine:v1` } }, contextOf({ stateDir: await vmState(), registry: settings(), log }));
    expect(first.path).toBeDefined();
    const digest = /"digest":"(sha256:[a-f0-9]{64})"/.exec(log.lines.join("\n"))?.[1];
    expect(digest).toBeDefined();
    const never: Volume = { name: "rootdisk", containerDisk: { image: `127.0.0.1:1/vms/alpine@${digest}`, imagePullPolicy: "Never" } };
    const r = await containerDiskProvider().prepare(never, contextOf({ stateDir: await vmState(), registry: settings() }));
    expect(r.bytesFetched).toBe(0);
    const e = await containerDiskProvider().prepare(never, contextOf({ stateDir: await vmState(), registry: { cacheDir: join(work, "empty-cache") } })).catch((x: unknown) => x);
    expect((e as Error).message).toContain('imagePullPolicy is "Never"');
  });

  test("bunvirt volumes prepare/cleanup: every kind of volume end to end, v1 and v1alpha1", async () => {
    const root = await dirs.make("bunvirt-host-cli-");
    const c = await claimWithDisk(dirs, "golden");
    await mkdir(join(root, "claims", "data"), { recursive: true });
    const secret = await mountedSecret(join(root, "secret"), { userdata: "#cloud-config\nhostname: cli\n" });
    const manifest = `apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata: { name: cli-vm, namespace: host }
spec:
  runStrategy: Always
  template:
    spec:
      domain:
        resources: { requests: { memory: 64M } }
        devices:
          disks:
          - { name: rootdisk, disk: {} }
          - { name: data, disk: {} }
          - { name: scratch, disk: {} }
          - { name: golden, disk: {} }
          - { name: cloudinit, disk: {} }
      volumes:
      - name: rootdisk
        containerDisk: { image: vms/alpine:v1 }
      - name: data
        persistentVolumeClaim: { claimName: data }
      - name: scratch
        emptyDisk: { capacity: 1Gi }
      - name: golden
        ephemeral: { persistentVolumeClaim: { claimName: golden } }
      - name: cloudinit
        cloudInitNoCloud: { secretRef: { name: ci-secret } }
`;
    await writeFile(join(root, "vm.yaml"), manifest);
    const stateDir = join(root, "state");
    const flags = [
      "--state-dir", stateDir,
      "--registry", registry.host,
      "--insecure-registry", registry.host,
      "--cache-dir", join(root, "cache"),
      "--claim", `data=${join(root, "claims", "data")}:1Gi`,
      "--claim", `golden=${c.claimDir}`,
      "--secret", `ci-secret=${secret}`,
    ];
    const out: string[] = [];
    const err: string[] = [];
    expect(await volumesCommand(["prepare", join(root, "vm.yaml"), ...flags], (l) => out.push(l), (l) => err.push(l))).toBe(0);
    expect(err).toEqual([]);
    const lines = out.map((l) => JSON.parse(l) as { name: string; kind: string; path: string; format: string; bytesFetched: number | null; cacheHit: boolean | null });
    expect(lines.map((l) => [l.name, l.kind, l.format])).toEqual([
      ["rootdisk", "containerDisk", "qcow2"],
      ["data", "persistentVolumeClaim", "raw"],
      ["scratch", "emptyDisk", "qcow2"],
      ["golden", "ephemeral", "qcow2"],
      ["cloudinit", "cloudInitNoCloud", "raw"],
    ]);
    for (const l of lines) expect((await qemuImgInfo(l.path)).format).toBe(l.format);
    expect(lines[0]?.bytesFetched).toBeGreaterThan(0);
    expect(lines[0]?.cacheHit).toBe(false);

    // v1alpha1: registryDisk becomes containerDisk (the volume takes its disk's name), served from the same node cache.
    const alpha = `apiVersion: kubevirt.io/v1alpha1
kind: VirtualMachine
metadata: { name: alpha-vm }
spec:
  domain:
    resources: { requests: { memory: 64M } }
    devices:
      disks:
      - { name: registrydisk, volumeName: registryvolume, disk: { bus: virtio } }
  volumes:
  - name: registryvolume
    registryDisk: { image: vms/alpine:v1 }
`;
    await writeFile(join(root, "alpha.yaml"), alpha);
    const alphaOut: string[] = [];
    const alphaFlags = ["--state-dir", join(root, "alpha-state"), "--registry", registry.host, "--insecure-registry", registry.host, "--cache-dir", join(root, "cache")];
    expect(await volumesCommand(["prepare", join(root, "alpha.yaml"), ...alphaFlags], (l) => alphaOut.push(l), (l) => err.push(l))).toBe(0);
    expect(JSON.parse(alphaOut[0] ?? "{}")).toMatchObject({ name: "registrydisk", kind: "containerDisk", format: "qcow2", bytesFetched: 0, cacheHit: true });

    const cleaned: string[] = [];
    expect(await volumesCommand(["cleanup", join(root, "vm.yaml"), "--state-dir", stateDir], (l) => cleaned.push(l), (l) => err.push(l))).toBe(0);
    expect(await readdir(stateDir)).toEqual([]);
    expect(await volumesCommand(["cleanup", join(root, "alpha.yaml"), "--state-dir", join(root, "alpha-state")], () => undefined, (l) => err.push(l))).toBe(0);
    expect(await readdir(join(root, "alpha-state"))).toEqual([]);
    expect(err).toEqual([]);
  });

  test("prepareVolumes: a failing volume rolls back the others", async () => {
    const stateDir = await vmState();
    const e = await prepareVolumes(
      {
        domain: { devices: { disks: [{ name: "a" }, { name: "b" }, { name: "c" }] } },
        volumes: [
          { name: "a", containerDisk: { image: `${registry.host}/vms/alpine:v1` } },
          { name: "b", emptyDisk: { capacity: "1Gi" } },
          { name: "c", containerDisk: { image: `${registry.host}/vms/absent:v1` } },
        ],
      },
      contextOf({ stateDir, registry: settings() }),
    ).catch((x: unknown) => x);
    expect((e as Error).message).toStartWith('Cannot prepare volume "c": cannot pull "');
    expect(await readdir(stateDir)).toEqual([]);
  });
});

