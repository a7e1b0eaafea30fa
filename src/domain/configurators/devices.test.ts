import { describe, expect, test } from "bun:test";
import type { LauncherFacts } from "../facts.ts";
import { ctxOf, render } from "../../../tests/lib/domain.ts";
import { serialConsole } from "./console.ts";
import { memballoon, rng } from "./devices-misc.ts";
import { disks, driveLetters } from "./disks.ts";
import { domainName, identity, uuidFromName } from "./identity.ts";
import { interfaces } from "./interfaces.ts";

const file = (path: string, format: "raw" | "qcow2" = "qcow2", readOnly = false) => ({ kind: "file" as const, path, format, readOnly });

describe("disks", () => {
  test("drive letters", () => expect([0, 1, 25, 26, 27, 701, 702].map(driveLetters)).toEqual(["a", "b", "z", "aa", "ab", "zz", "aaa"]));

  test("targets counted per prefix, drivers from the prepared format, controllers per bus", () => {
    const ctx = ctxOf(
      { devices: { disks: [
        { name: "root", bootOrder: 1, cache: "none" },
        { name: "d1", disk: { bus: "sata" }, serial: "S1" },
        { name: "d2", disk: { bus: "scsi", readonly: true } },
        { name: "cd", cdrom: {} },
        { name: "d3", disk: { bus: "virtio" } },
      ] } },
      { volumes: { root: file("/v/root.qcow2"), d1: file("/v/d1.img", "raw"), d2: file("/v/d2.qcow2"), cd: file("/v/cd.iso", "raw"), d3: { kind: "block", path: "/dev/sdz" } } },
    );
    const out = render(disks(ctx));
    expect(out.disks).toEqual([
      "<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none' error_policy='stop' discard='unmap'/><source file='/v/root.qcow2'/><target dev='vda' bus='virtio'/><boot order='1'/><alias name='ua-root'/></disk>",
      "<disk type='file' device='disk'><driver name='qemu' type='raw' error_policy='stop' discard='unmap'/><source file='/v/d1.img'/><target dev='sda' bus='sata'/><serial>S1</serial><alias name='ua-d1'/></disk>",
      "<disk type='file' device='disk'><driver name='qemu' type='qcow2' error_policy='stop' discard='unmap'/><source file='/v/d2.qcow2'/><target dev='sdb' bus='scsi'/><readonly/><alias name='ua-d2'/></disk>",
      "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/v/cd.iso'/><target dev='sdc' bus='sata'/><readonly/><alias name='ua-cd'/></disk>",
      "<disk type='block' device='disk'><driver name='qemu' type='raw' error_policy='stop' discard='unmap'/><source dev='/dev/sdz'/><target dev='vdb' bus='virtio'/><alias name='ua-d3'/></disk>",
    ]);
    expect(out.controllers).toEqual(["<controller type='scsi' index='0' model='virtio-scsi'/>"]);
  });

  test("an overlay names its backing image, which libvirt must not relabel", () => {
    const out = render(disks(ctxOf({ devices: { disks: [{ name: "a" }] } }, { volumes: { a: { kind: "file", path: "/s/a.qcow2", format: "qcow2", backing: { path: "/cache/disk.raw", format: "raw" } } } })));
    expect(out.disks![0]).toContain(
      "<source file='/s/a.qcow2'/><backingStore type='file'><format type='raw'/><source file='/cache/disk.raw'><seclabel model='dac' relabel='no'/></source><backingStore/></backingStore><target dev='vda' bus='virtio'/>",
    );
  });

  test("a read-only prepared volume makes a read-only disk", () => {
    const out = render(disks(ctxOf({ devices: { disks: [{ name: "a" }] } }, { volumes: { a: file("/a", "raw", true) } })));
    expect(out.disks![0]).toContain("<readonly/>");
  });


  test("a disk without a prepared volume is an error naming the disk", () => {
    expect(() => disks(ctxOf({ devices: { disks: [{ name: "a" }, { name: "lost" }] } }, { volumes: { a: file("/a") } }))).toThrow('domain.devices.disks[1]: disk "lost" has no prepared volume');
  });

  test("a lun on a file is an error", () => {
    expect(() => disks(ctxOf({ devices: { disks: [{ name: "a", lun: {} }] } }, { volumes: { a: file("/a") } }))).toThrow('lun disk "a" needs a block volume');
  });
});

describe("interfaces", () => {
  const facts: Partial<LauncherFacts> = { interfaces: { default: { tap: "tap0", mac: "02-00-00-00-00-AA", mtu: 1450 } } };
  test("the default pod interface is a virtio ethernet NIC on the binding's tap", () => {
    expect(render(interfaces(ctxOf({}, facts))).interfaces).toEqual([
      "<interface type='ethernet'><mac address='02:00:00:00:00:aa'/><target dev='tap0' managed='no'/><model type='virtio'/><mtu size='1450'/><rom enabled='no'/><alias name='ua-default'/></interface>",
    ]);
  });
  test("model and boot order", () => {
    const ctx = ctxOf({ devices: { interfaces: [{ name: "default", bridge: {}, model: "e1000", bootOrder: 3 }] } }, facts, { networks: [{ name: "default", pod: {} }] });
    expect(render(interfaces(ctx)).interfaces![0]).toContain("<model type='e1000'/><mtu size='1450'/><boot order='3'/>");
  });
  test("the MAC is written in the colon form whatever form it came in", () => {
    const dotted: Partial<LauncherFacts> = { interfaces: { default: { tap: "tap0", mac: "0200.5E00.5301" } } };
    expect(render(interfaces(ctxOf({}, dotted))).interfaces![0]).toContain("<mac address='02:00:5e:00:53:01'/>");
    const bad: Partial<LauncherFacts> = { interfaces: { default: { tap: "tap0", mac: "02:00:5e" } } };
    expect(() => interfaces(ctxOf({}, bad))).toThrow('domain.devices.interfaces[0].macAddress: "02:00:5e" is not a MAC address');
  });
  test("an interface without a tap is an error", () => {
    expect(() => interfaces(ctxOf({}))).toThrow('domain.devices.interfaces[0]: interface "default" has no prepared tap device');
  });
});

describe("console, balloon, rng, identity", () => {
  test("serial console on a unix socket with a log", () => {
    const out = render(serialConsole(ctxOf({}, { serialSocket: "/run/s", serialLog: "/log/s" })));
    expect(out.serials).toEqual(["<serial type='unix'><source mode='bind' path='/run/s'/><target type='isa-serial' port='0'><model name='isa-serial'/></target><log file='/log/s' append='on'/></serial>"]);
    expect(out.consoles).toEqual(["<console type='unix'><source mode='bind' path='/run/s'/><target type='serial' port='0'/></console>"]);
  });
  test("no socket: a pty; autoattachSerialConsole false: nothing", () => {
    expect(render(serialConsole(ctxOf({}))).serials![0]).toStartWith("<serial type='pty'>");
    expect(serialConsole(ctxOf({ devices: { autoattachSerialConsole: false } }))).toEqual({});
  });
  test("memballoon on by default, off on request; rng on request", () => {
    expect(render(memballoon(ctxOf({}))).memballoon).toEqual(["<memballoon model='virtio'><stats period='10'/></memballoon>"]);
    expect(render(memballoon(ctxOf({ devices: { autoattachMemBalloon: false } }))).memballoon).toEqual(["<memballoon model='none'/>"]);
    expect(rng(ctxOf({}))).toEqual({});
    expect(render(rng(ctxOf({ devices: { rng: {} } }))).rng).toEqual(["<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"]);
  });
  test("identity: namespace_name, firmware uuid, else uid, else derived; metadata", () => {
    expect(domainName("ns", "vm")).toBe("ns_vm");
    const derived = uuidFromName("ns", "vm");
    expect(derived).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(render(identity(ctxOf({}))).uuid).toEqual([`<uuid>${derived}</uuid>`]);
    const withUid = ctxOf({});
    withUid.vmi.uid = "0A1B2C3D-0000-4000-8000-000000000001";
    expect(render(identity(withUid)).uuid).toEqual(["<uuid>0a1b2c3d-0000-4000-8000-000000000001</uuid>"]);
    expect(render(identity(withUid)).metadata![0]).toContain("<bunvirt:uid>0A1B2C3D-0000-4000-8000-000000000001</bunvirt:uid>");
    expect(render(identity(ctxOf({ firmware: { uuid: "11111111-2222-4333-8444-555555555555" } }))).uuid).toEqual(["<uuid>11111111-2222-4333-8444-555555555555</uuid>"]);
  });
});
