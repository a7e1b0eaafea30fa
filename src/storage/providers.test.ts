import { describe, expect, test } from "bun:test";
import { defaultProviders, providerFor, sourceOf } from "./providers.ts";
import { providerKinds, StorageError, toPreparedVolume, type Volume } from "./provider.ts";

describe("provider set", () => {
  test("one provider per source key, each named by its key", () => {
    const set = defaultProviders();
    for (const k of providerKinds) expect(set[k].kind).toBe(k);
  });

  test("a volume's provider is picked by its source key", () => {
    const cases: [Volume, string][] = [
      [{ name: "a", containerDisk: { image: "x/y:1" } }, "containerDisk"],
      [{ name: "a", persistentVolumeClaim: { claimName: "c" } }, "persistentVolumeClaim"],
      [{ name: "a", ephemeral: { persistentVolumeClaim: { claimName: "c" } } }, "ephemeral"],
      [{ name: "a", emptyDisk: { capacity: "1Gi" } }, "emptyDisk"],
      [{ name: "a", cloudInitNoCloud: { userData: "x" } }, "cloudInitNoCloud"],
      [{ name: "a", hostDisk: { path: "/d/a.img", type: "Disk" } }, "hostDisk"],
    ];
    for (const [v, kind] of cases) {
      expect(sourceOf(v)).toBe(kind as never);
      expect(providerFor(v).kind).toBe(kind as never);
    }
  });

  test("no source, two sources, or an unknown source are errors naming the volume", () => {
    expect(() => sourceOf({ name: "a" })).toThrow('Cannot prepare volume "a": it has no source; set one of persistentVolumeClaim, ephemeral');
    expect(() => sourceOf({ name: "a", emptyDisk: { capacity: 1 }, containerDisk: { image: "x" } })).toThrow("it has 2 sources (containerDisk, emptyDisk)");
    expect(() => sourceOf({ name: "a", gitRepo: { repository: "x" } } as unknown as Volume)).toThrow(StorageError);
  });

  test("toPreparedVolume gives the domain converter's shape", () => {
    expect(toPreparedVolume({ name: "a", kind: "emptyDisk", path: "/s/a.qcow2", format: "qcow2", readOnly: false, block: false })).toEqual({ kind: "file", path: "/s/a.qcow2", format: "qcow2", readOnly: false });
    expect(toPreparedVolume({ name: "a", kind: "persistentVolumeClaim", path: "/dev/sdb", format: "raw", readOnly: true, block: true })).toEqual({ kind: "block", path: "/dev/sdb", readOnly: true });
  });
});
