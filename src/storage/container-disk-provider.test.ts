import { afterAll, describe, expect, test } from "bun:test";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { containerDiskProvider } from "./container-disk-provider.ts";
import { StorageError, type Volume } from "./provider.ts";
import { contextOf, mountedSecret, TempDirs } from "../../tests/lib/storage.ts";

const dirs = new TempDirs();
afterAll(() => dirs.dispose());

/** A provider whose puller records calls (none may happen for bad input). */
function provider(pulls: string[]): ReturnType<typeof containerDiskProvider> {
  return containerDiskProvider({
    pull: async (ref) => {
      pulls.push(ref);
      throw new Error("no registry in the unit tier");
    },
  });
}

async function ctxDirs(): Promise<{ root: string; stateDir: string; cacheDir: string }> {
  const root = await dirs.make();
  await mkdir(join(root, "state"));
  return { root, stateDir: join(root, "state"), cacheDir: join(root, "cache") };
}

const cd = (c: NonNullable<Volume["containerDisk"]>): Volume => ({ name: "rootdisk", containerDisk: c });

describe("containerDisk: bad input is refused before any pull or file", () => {
  const cases: [string, Volume, RegExp, ((d: { root: string; stateDir: string; cacheDir: string }) => Promise<Record<string, string>>)?][] = [
    ["a path with ..", cd({ image: "127.0.0.1:5000/disk:1", path: "/disk/../etc/shadow" }), /containerDisk\.path "\/disk\/\.\.\/etc\/shadow" is unusable: it must not contain "\.\."/],
    ["a relative path", cd({ image: "127.0.0.1:5000/disk:1", path: "disk/x.qcow2" }), /containerDisk\.path "disk\/x\.qcow2" is unusable: it must be absolute/],
    ["a bad reference", cd({ image: "UPPER case/x" }), /containerDisk\.image "UPPER case\/x" is not an image reference/],
    ["Never with a tag", cd({ image: "127.0.0.1:5000/disk:1", imagePullPolicy: "Never" }), /imagePullPolicy "Never" finds a disk in the node cache by digest/],
    ["a pull Secret that is not mounted", cd({ image: "127.0.0.1:5000/disk:1", imagePullSecret: "regcred" }), /the image pull Secret "regcred" is not mounted in this pod \(looked for keys "\.dockerconfigjson", "\.dockercfg"\)/],
    [
      "a pull Secret that is not a docker config",
      cd({ image: "127.0.0.1:5000/disk:1", imagePullSecret: "regcred" }),
      /key "\.dockerconfigjson" of the image pull Secret "regcred" is unusable: Cannot read pull secret: it is not JSON/,
      async (d) => ({ regcred: await mountedSecret(join(d.root, "regcred"), { ".dockerconfigjson": "{hunter2" }) }),
    ],
  ];
  for (const [title, volume, error, secrets] of cases) {
    test(title, async () => {
      const d = await ctxDirs();
      const pulls: string[] = [];
      const ctx = contextOf({ stateDir: d.stateDir, registry: { cacheDir: d.cacheDir }, secrets: secrets !== undefined ? await secrets(d) : {} });
      const e = await provider(pulls).prepare(volume, ctx).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(StorageError);
      expect((e as Error).message).toMatch(error);
      expect((e as Error).message).not.toContain("hunter2");
      if (secrets !== undefined) expect((e as Error).cause).toBeUndefined(); // a JSON error could quote the Secret
      expect(pulls).toEqual([]);
      expect(await readdir(d.stateDir)).toEqual([]);
    });
  }

  test("no node cache configured", async () => {
    const d = await ctxDirs();
    const e = await provider([]).check(cd({ image: "x/y:1" }), contextOf({ stateDir: d.stateDir })).catch((x: unknown) => x);
    expect((e as Error).message).toBe('Cannot prepare volume "rootdisk": no node cache directory is configured for container disks');
  });

  test("a failed pull leaves nothing in the state directory", async () => {
    const d = await ctxDirs();
    const pulls: string[] = [];
    const e = await provider(pulls).prepare(cd({ image: "127.0.0.1:5000/disk:1" }), contextOf({ stateDir: d.stateDir, registry: { cacheDir: d.cacheDir } })).catch((x: unknown) => x);
    expect((e as StorageError).code).toBe("pull");
    expect(pulls).toEqual(["127.0.0.1:5000/disk:1"]);
    expect(await readdir(d.stateDir)).toEqual([]);
  });
});
