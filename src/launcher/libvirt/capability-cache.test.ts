import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultCapabilityCacheSeed, saveCapabilityCache, seedCapabilityCache } from "./capability-cache.ts";

const root = mkdtempSync(join(tmpdir(), "caps-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("capability cache seeding", () => {
  test("default seed directory is keyed by versions", () => {
    const versions = { libvirt: "9.0.0", qemu: "7.2.22" };
    expect(defaultCapabilityCacheSeed(versions)).toBe("/var/cache/bunvirt/libvirt-caps-9.0.0-7.2.22");
    expect(defaultCapabilityCacheSeed(versions, ["qemu"])).toBe("/var/cache/bunvirt/libvirt-caps-9.0.0-7.2.22");
    expect(defaultCapabilityCacheSeed(versions, ["secret", "qemu"])).toBe("/var/cache/bunvirt/libvirt-caps-9.0.0-7.2.22-drivers-qemu-secret");
  });

  test("seed copies *.xml; a missing seed copies nothing", async () => {
    const seed = join(root, "seed1");
    mkdirSync(seed);
    writeFileSync(join(seed, "abc.xml"), "<qemuCaps/>");
    writeFileSync(join(seed, "notes.txt"), "x");
    const caps = join(root, "stack1", "cache", "qemu", "capabilities");
    expect(await seedCapabilityCache(seed, caps)).toEqual(["abc.xml"]);
    expect(readFileSync(join(caps, "abc.xml"), "utf8")).toBe("<qemuCaps/>");
    expect(await seedCapabilityCache(join(root, "missing"), caps)).toEqual([]);
  });

  test("save writes only changed files and leaves no temporaries", async () => {
    const caps = join(root, "stack2");
    const seed = join(root, "seed2");
    mkdirSync(caps);
    writeFileSync(join(caps, "a.xml"), "one");
    expect(await saveCapabilityCache(caps, seed)).toEqual(["a.xml"]);
    expect(await saveCapabilityCache(caps, seed)).toEqual([]);
    writeFileSync(join(caps, "a.xml"), "two");
    expect(await saveCapabilityCache(caps, seed)).toEqual(["a.xml"]);
    expect(readdirSync(seed)).toEqual(["a.xml"]);
    expect(readFileSync(join(seed, "a.xml"), "utf8")).toBe("two");
  });
});
