import { afterAll, describe, expect, test } from "bun:test";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { VmiSpec } from "../api/v1/vmi.ts";
import { cleanupVolumes, prepareVolumes } from "./prepare-volumes.ts";
import { defaultProviders, type ProviderSet } from "./providers.ts";
import { StorageError, type PreparedDisk, type Volume, type VolumeContext, type VolumeProvider } from "./provider.ts";
import { contextOf, TempDirs } from "../../tests/lib/storage.ts";

const dirs = new TempDirs();
afterAll(() => dirs.dispose());

/** A provider writing `<name>.fake` in the state dir; fails for volumes named "fail-*" after a delay. */
function fakeProvider(calls: string[]): VolumeProvider {
  return {
    kind: "emptyDisk",
    async check(volume: Volume): Promise<void> {
      calls.push(`check ${volume.name}`);
      if (volume.name.startsWith("bad")) throw new StorageError(volume.name, "invalid", "bad on purpose");
    },
    async prepare(volume: Volume, ctx: VolumeContext): Promise<PreparedDisk> {
      calls.push(`prepare ${volume.name}`);
      if (volume.name.startsWith("fail")) {
        await Bun.sleep(20);
        throw new StorageError(volume.name, "tool", "failed on purpose");
      }
      await writeFile(join(ctx.stateDir, `${volume.name}.fake`), ctx.vmi.hostname ?? "");
      return { name: volume.name, kind: "emptyDisk", path: join(ctx.stateDir, `${volume.name}.fake`), format: "qcow2", readOnly: false, block: false };
    },
    async cleanup(volume: Volume, ctx: VolumeContext): Promise<string[]> {
      calls.push(`cleanup ${volume.name}`);
      const p = join(ctx.stateDir, `${volume.name}.fake`);
      const there = (await readdir(ctx.stateDir)).includes(`${volume.name}.fake`);
      if (there) await Bun.file(p).delete();
      return there ? [p] : [];
    },
  };
}

function withFake(calls: string[]): ProviderSet {
  return { ...defaultProviders(), emptyDisk: fakeProvider(calls) };
}

const spec = (...names: string[]): VmiSpec => ({
  domain: { devices: { disks: names.map((name) => ({ name })) } },
  volumes: names.map((name) => ({ name, emptyDisk: { capacity: "1Mi" } })),
  hostname: "spec-host",
});

async function stateDir(): Promise<string> {
  const d = join(await dirs.make(), "state");
  await mkdir(d);
  return d;
}

describe("prepareVolumes", () => {
  test("prepares every volume and gives the domain's facts by name, with the spec's hostname", async () => {
    const calls: string[] = [];
    const dir = await stateDir();
    const r = await prepareVolumes(spec("a", "b"), contextOf({ stateDir: dir }), withFake(calls));
    expect(Object.keys(r.prepared)).toEqual(["a", "b"]);
    expect(r.prepared.a).toEqual({ kind: "file", path: join(dir, "a.fake"), format: "qcow2", readOnly: false });
    expect(r.disks.map((d) => d.name)).toEqual(["a", "b"]);
    expect(await Bun.file(join(dir, "a.fake")).text()).toBe("spec-host");
    await r.cleanup();
    expect(await readdir(dir)).toEqual([]);
  });

  test("checks every volume before preparing any", async () => {
    const calls: string[] = [];
    const dir = await stateDir();
    const e = await prepareVolumes(spec("a", "bad-one"), contextOf({ stateDir: dir }), withFake(calls)).catch((x: unknown) => x);
    expect((e as Error).message).toBe('Cannot prepare volume "bad-one": bad on purpose');
    expect(calls.filter((c) => c.startsWith("prepare"))).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  test("a failure cleans up the volumes already prepared, then rethrows", async () => {
    const calls: string[] = [];
    const dir = await stateDir();
    const e = await prepareVolumes(spec("a", "fail-x", "c"), contextOf({ stateDir: dir }), withFake(calls)).catch((x: unknown) => x);
    expect((e as Error).message).toBe('Cannot prepare volume "fail-x": failed on purpose');
    expect(calls).toContain("cleanup a");
    expect(calls).toContain("cleanup c");
    expect(calls).not.toContain("cleanup fail-x");
    expect(await readdir(dir)).toEqual([]);
  });

  test("duplicate volume names are refused before anything happens", async () => {
    const calls: string[] = [];
    const dir = await stateDir();
    const e = await prepareVolumes(spec("a", "a"), contextOf({ stateDir: dir }), withFake(calls)).catch((x: unknown) => x);
    expect((e as Error).message).toBe('Cannot prepare volume "a": another volume has the same name');
    expect(calls).toEqual([]);
  });

  test("cleanupVolumes undoes a prepare from another process (needs only the state directory)", async () => {
    const calls: string[] = [];
    const dir = await stateDir();
    await prepareVolumes(spec("a", "b"), contextOf({ stateDir: dir }), withFake(calls));
    const cleaned = await cleanupVolumes(spec("a", "b"), contextOf({ stateDir: dir }), withFake(calls));
    expect(cleaned).toEqual([
      { name: "a", kind: "emptyDisk", removed: [join(dir, "a.fake")] },
      { name: "b", kind: "emptyDisk", removed: [join(dir, "b.fake")] },
    ]);
    expect(await readdir(dir)).toEqual([]);
  });

  test("a spec without volumes prepares nothing", async () => {
    const r = await prepareVolumes({ domain: { devices: {} } }, contextOf({ stateDir: await stateDir() }));
    expect(r.prepared).toEqual({});
  });
});
