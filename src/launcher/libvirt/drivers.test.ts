import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareDriverDir, systemDriverDir } from "./drivers.ts";

const root = mkdtempSync(join(tmpdir(), "drivers-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("driver directory", () => {
  const system = join(root, "system");
  mkdirSync(system);
  for (const d of ["qemu", "network", "secret"]) writeFileSync(join(system, `libvirt_driver_${d}.so`), "");

  test("finds the system directory by its QEMU module", () => {
    expect(systemDriverDir([join(root, "nope"), system])).toBe(system);
    expect(systemDriverDir([join(root, "nope")])).toBeNull();
  });

  test("links only the wanted drivers, replacing old links", async () => {
    const dir = join(root, "stack");
    expect(await prepareDriverDir(dir, ["qemu", "secret"], system)).toBe(dir);
    expect(await prepareDriverDir(dir, ["qemu"], system)).toBe(dir);
    expect(readdirSync(dir)).toEqual(["libvirt_driver_qemu.so"]);
    expect(readlinkSync(join(dir, "libvirt_driver_qemu.so"))).toBe(join(system, "libvirt_driver_qemu.so"));
  });

  test("unknown drivers and an unknown system directory", async () => {
    await expect(prepareDriverDir(join(root, "s2"), ["lxc"], system)).rejects.toThrow('Cannot select libvirt driver "lxc"');
    await expect(prepareDriverDir(join(root, "s3"), ["../x"], system)).rejects.toThrow("not a driver name");
    expect(await prepareDriverDir(join(root, "s4"), ["qemu"], null)).toBeNull();
  });
});
