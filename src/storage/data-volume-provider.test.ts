import { afterAll, describe, expect, test } from "bun:test";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { providerContract, type ContractFixtures } from "../../tests/contracts/storage-provider.ts";
import { contextOf, TempDirs } from "../../tests/lib/storage.ts";
import { dataVolumeProvider } from "./data-volume-provider.ts";
import { importDataVolume } from "./import/index.ts";
import { silentLog, type Volume } from "./provider.ts";

const MiB = 2 ** 20;

const volume = (name = "root-dv", hotpluggable?: boolean): Volume => ({ name: "rootdisk", dataVolume: { name, ...(hotpluggable !== undefined ? { hotpluggable } : {}) } });

function fixtures(dirs: TempDirs): ContractFixtures {
  /** A state directory and the DataVolume's claim, imported (blank) when `imported`. */
  const base = async (imported: boolean): Promise<{ stateDir: string; claimDir: string }> => {
    const root = await dirs.make("bunvirt-dv-");
    const stateDir = join(root, "state");
    const claimDir = join(root, "claims", "root-dv");
    await mkdir(stateDir, { recursive: true });
    await mkdir(claimDir, { recursive: true });
    if (imported) await importDataVolume({ name: "root-dv", source: { blank: {} }, sizeBytes: 8 * MiB, claim: { path: claimDir } }, { claims: {}, secrets: {}, log: silentLog });
    return { stateDir, claimDir };
  };
  return {
    good: async () => {
      const b = await base(true);
      return { volume: volume(), ctx: contextOf({ stateDir: b.stateDir, claims: { "root-dv": { path: b.claimDir, capacity: 64 * MiB } } }), watch: [b.stateDir, b.claimDir] };
    },
    failing: [
      {
        title: "the DataVolume's claim is not mounted",
        error: /claim "root-dv" is not mounted in this pod/,
        make: async () => {
          const b = await base(true);
          return { volume: volume(), ctx: contextOf({ stateDir: b.stateDir, claims: {} }), watch: [b.stateDir, b.claimDir] };
        },
      },
    ],
    bad: [
      {
        title: "the import has not finished (no disk.img), even with a capacity to create one",
        error: /DataVolume "root-dv" is not ready: .*holds no disk\.img.*; its import has not finished/,
        make: async () => {
          const b = await base(false);
          return { volume: volume(), ctx: contextOf({ stateDir: b.stateDir, claims: { "root-dv": { path: b.claimDir, capacity: 64 * MiB } } }), watch: [b.stateDir, b.claimDir] };
        },
      },
      {
        title: "hotpluggable",
        error: /bunvirt does not hotplug volumes/,
        make: async () => {
          const b = await base(true);
          return { volume: volume("root-dv", true), ctx: contextOf({ stateDir: b.stateDir, claims: { "root-dv": { path: b.claimDir } } }), watch: [b.stateDir, b.claimDir] };
        },
      },
    ],
    dispose: () => dirs.dispose(),
  };
}

providerContract("dataVolume", dataVolumeProvider, fixtures(new TempDirs()), { formatCheck: "magic" });

describe("dataVolume", () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.dispose());

  test("the disk is the imported disk.img of the claim named after the DataVolume, used in place and kept at cleanup", async () => {
    const root = await dirs.make("bunvirt-dv-");
    const claimDir = join(root, "root-dv");
    await mkdir(claimDir);
    await importDataVolume({ name: "root-dv", source: { blank: {} }, sizeBytes: 8 * MiB, claim: { path: claimDir } }, { claims: {}, secrets: {}, log: silentLog });
    const ctx = contextOf({ stateDir: root, claims: { "root-dv": { path: claimDir } } });
    const disk = await dataVolumeProvider().prepare(volume(), ctx);
    expect(disk).toEqual({ name: "rootdisk", kind: "dataVolume", path: join(claimDir, "disk.img"), format: "raw", readOnly: false, block: false });
    expect(await dataVolumeProvider().cleanup(volume(), ctx)).toEqual([]);
    expect(await readdir(claimDir)).toEqual(["disk.img"]);
  });

  test("an unmounted claim is named as such (not as an unfinished import)", async () => {
    const root = await dirs.make("bunvirt-dv-");
    const e = await dataVolumeProvider().check(volume(), contextOf({ stateDir: root, claims: {} })).catch((x: unknown) => x as Error);
    expect((e as Error).message).toBe('Cannot prepare volume "rootdisk": claim "root-dv" is not mounted in this pod (mounted claims: none)');
  });
});
