import { expect, test } from "bun:test";
import { ctxOf, render } from "../../../tests/lib/domain.ts";
import { disks } from "./disks.ts";

test("a host disk's file keeps its owner: libvirt is told not to relabel it (CVE-2025-64324)", () => {
  const out = render(disks(ctxOf({ devices: { disks: [{ name: "hd" }] } }, { volumes: { hd: { kind: "file", path: "/var/data/disk.img", format: "raw", readOnly: false, keepOwner: true } } })));
  expect(out.disks![0]).toContain("<driver name='qemu' type='raw' error_policy='stop' discard='unmap'/><source file='/var/data/disk.img'><seclabel model='dac' relabel='no'/></source><target dev='vda' bus='virtio'/>");
});
