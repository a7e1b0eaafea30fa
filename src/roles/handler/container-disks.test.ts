import { afterAll, expect, test } from "bun:test";
import { mkdir, mkdtemp, readdir, rm, stat, symlink, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTar, fakeRegistry, memoryImage } from "../../../tests/lib/registry-bytes.ts";
import { DiskCache } from "../../storage/registry/index.ts";
import type { Vmi } from "../controller/model.ts";
import { pinImages, pullContainerDisks, unpinnedImages } from "./container-disks.ts";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const vmi: Vmi = {
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata: { name: "vm1", namespace: "ns" },
  spec: {
    domain: { devices: {}, memory: { guest: "64M" } },
    volumes: [
      { name: "a", containerDisk: { image: "kubevirt/cirros-registry-disk-demo:devel" } },
      { name: "b", containerDisk: { image: "x/y@sha256:" + "1".repeat(64) } },
      { name: "c", cloudInitNoCloud: { userData: "#cloud-config\n" } },
    ],
  },
};

test("only images without a digest are pulled, each once", () => {
  expect(unpinnedImages(vmi)).toEqual(["kubevirt/cirros-registry-disk-demo:devel"]);
});

test("pulled images are pinned to their digest; the VMI given is not changed", () => {
  const d = "sha256:" + "a".repeat(64);
  const pinned = pinImages(vmi, new Map([["kubevirt/cirros-registry-disk-demo:devel", d]]));
  expect(pinned.spec.volumes?.[0]?.containerDisk?.image).toBe(`kubevirt/cirros-registry-disk-demo:devel@${d}`);
  expect(pinned.spec.volumes?.[1]?.containerDisk?.image).toBe("x/y@sha256:" + "1".repeat(64));
  expect(vmi.spec.volumes?.[0]?.containerDisk?.image).toBe("kubevirt/cirros-registry-disk-demo:devel");
});

/** A qcow2 image served by a fake registry, and the handler's settings with a node cache under `root`. */
function guestRegistry(root: string): { settings: { defaultRegistry: string; insecureRegistries: string[]; nodeCacheDir: string; fetch: ReturnType<typeof fakeRegistry>["fetch"] }; image: ReturnType<typeof memoryImage> } {
  const reg = fakeRegistry("reg.test:5000");
  const disk = new Uint8Array(200_000);
  const header = new DataView(disk.buffer);
  header.setUint32(0, 0x514649fb);
  header.setUint32(4, 3);
  header.setBigUint64(24, 1024n * 1024n * 1024n);
  const image = memoryImage([{ tar: buildTar([{ name: "disk/", type: "5" }, { name: "disk/disk.qcow2", content: disk }]) }]);
  reg.putImage("vm/guest", "v1", image);
  return { settings: { defaultRegistry: "reg.test:5000", insecureRegistries: ["reg.test:5000"], nodeCacheDir: join(root, "node"), fetch: reg.fetch }, image };
}

test("a symlink the launcher planted in its volume (tmp/, locks/, sha256/ or the cache dir itself) makes the handler refuse, writing nothing through it", async () => {
  const root = await mkdtemp(join(tmpdir(), "bunvirt-disks-symlink-"));
  dirs.push(root);
  const { settings } = guestRegistry(root);
  const one: Vmi = { ...vmi, spec: { ...vmi.spec, volumes: [{ name: "a", containerDisk: { image: "vm/guest:v1" } }] } };
  for (const planted of ["tmp", "locks", "sha256", "."]) {
    const outside = join(root, `outside-${planted === "." ? "dir" : planted}`);
    await mkdir(outside);
    const volume = join(root, `pod-${planted === "." ? "dir" : planted}`);
    await mkdir(volume);
    const cacheDir = join(volume, "container-disks");
    if (planted === ".") await symlink(outside, cacheDir);
    else {
      await mkdir(cacheDir);
      await symlink(outside, join(cacheDir, planted));
    }
    await expect(pullContainerDisks(one, cacheDir, settings, () => undefined)).rejects.toThrow("is a symlink");
    expect(await readdir(outside)).toEqual([]);
  }
});

test("with a node cache: a burst of VMIs on one image fetches it once, each pod gets its own copy", async () => {
  const root = await mkdtemp(join(tmpdir(), "bunvirt-disks-unit-"));
  dirs.push(root);
  const reg = fakeRegistry("reg.test:5000");
  const disk = new Uint8Array(200_000);
  const header = new DataView(disk.buffer);
  header.setUint32(0, 0x514649fb); // qcow2 version 3, no backing file, 1 GiB
  header.setUint32(4, 3);
  header.setBigUint64(24, 1024n * 1024n * 1024n);
  const image = memoryImage([{ tar: buildTar([{ name: "disk/", type: "5" }, { name: "disk/disk.qcow2", content: disk }]) }]);
  reg.putImage("vm/guest", "v1", image);
  const settings = { defaultRegistry: "reg.test:5000", insecureRegistries: ["reg.test:5000"], nodeCacheDir: join(root, "node"), fetch: reg.fetch };
  const one = (i: number): Vmi => ({ ...vmi, metadata: { name: `vm${i}`, namespace: "ns" }, spec: { ...vmi.spec, volumes: [{ name: "a", containerDisk: { image: "vm/guest:v1" } }] } });
  const pods = [0, 1, 2].map((i) => join(root, `pod${i}`, "container-disks"));
  const digests = await Promise.all(pods.map((dir, i) => pullContainerDisks(one(i), dir, settings, () => undefined)));
  for (const d of digests) expect(d.get("vm/guest:v1")).toBe(image.manifestDigest);
  for (const digest of image.layerDigests) expect(reg.blobGets.get(digest)).toBe(1);
  const key = image.manifestDigest.slice("sha256:".length);
  const inodes = new Set<number>();
  for (const dir of [join(root, "node"), ...pods]) {
    expect(await readdir(join(dir, "sha256"))).toEqual([key]);
    inodes.add((await stat(join(dir, "sha256", key, "disk.qcow2"))).ino);
  }
  expect(inodes.size).toBe(4); // copies, not links

  // Each pull marks the node's entry used; pruning the node cache leaves the pods' copies, and the next VMI pulls again.
  const used = join(root, "node", "sha256", key, "metadata.json");
  const long = new Date(Date.now() - 30 * 24 * 3600_000);
  await utimes(used, long, long);
  await pullContainerDisks(one(3), join(root, "pod3", "container-disks"), settings, () => undefined);
  expect(Date.now() - (await stat(used)).mtimeMs).toBeLessThan(60_000);
  expect(await new DiskCache(join(root, "node")).prune(0)).toEqual([key]);
  for (const dir of pods) expect(await readdir(join(dir, "sha256"))).toEqual([key]);
  await pullContainerDisks(one(4), join(root, "pod4", "container-disks"), settings, () => undefined);
  for (const digest of image.layerDigests) expect(reg.blobGets.get(digest)).toBe(2);
});
