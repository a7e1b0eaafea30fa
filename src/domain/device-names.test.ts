import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deviceNames } from "./device-names.ts";

test("the seed domain's disks and NIC map back to the VMI's names", () => {
  const xml = readFileSync(join(import.meta.dir, "../../tests/fixtures/domain/seed.xml"), "utf8");
  expect(deviceNames(xml)).toEqual({ drives: { vda: "registrydisk", vdb: "cloudinitdisk" }, interfaces: { tap0: "default" } });
});

test("devices without a user alias are left out; double quotes (libvirt's live XML) work too", () => {
  const xml = `<domain><devices>
    <disk type="file"><target dev="sda" bus="sata"/><alias name="sata0-0-0"/></disk>
    <interface type="ethernet"><target dev="tap3" managed="no"/><alias name="ua-net1"/></interface>
  </devices></domain>`;
  expect(deviceNames(xml)).toEqual({ drives: {}, interfaces: { tap3: "net1" } });
});
