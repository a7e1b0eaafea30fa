import { expect, test } from "bun:test";
import type { VmiSpec } from "../../api/v1/vmi.ts";
import { hostDiskMountPath, hostDiskMounts } from "./host-disk-mounts.ts";

type Vol = NonNullable<VmiSpec["volumes"]>[number];
type Disk = NonNullable<VmiSpec["domain"]["devices"]["disks"]>[number];
const spec = (volumes: Vol[], disks: Disk[] = volumes.map((v) => ({ name: v.name }))): VmiSpec => ({ domain: { devices: { disks } }, volumes });

test("each allowed directory a host disk lies below is mounted once, by its own path, at its URI-encoded name", () => {
  const s = spec([
    { name: "a", hostDisk: { path: "/srv/vms/alice/a.img", type: "DiskOrCreate", capacity: "1Gi" } },
    { name: "b", hostDisk: { path: "/srv/vms/b.img", type: "Disk" } },
    { name: "c", containerDisk: { image: "x" } },
  ]);
  const { volumes, mounts } = hostDiskMounts(s, ["/srv/vms"]);
  expect(volumes).toHaveLength(1);
  expect(volumes[0]!.hostPath).toEqual({ path: "/srv/vms", type: "DirectoryOrCreate" });
  expect(volumes[0]!.name).toMatch(/^hostdisk-[0-9a-f]{20}$/);
  expect(mounts).toEqual([{ name: volumes[0]!.name, mountPath: "/run/bunvirt/host-disks/%2Fsrv%2Fvms" }]);
  expect(hostDiskMountPath("/srv/vms")).toBe("/run/bunvirt/host-disks/%2Fsrv%2Fvms");
});

test("a path below no allowed directory gets no mount; hostDisk is off by default", () => {
  const s = spec([{ name: "a", hostDisk: { path: "/etc/a.img", type: "DiskOrCreate", capacity: "1Gi" } }]);
  expect(hostDiskMounts(s, ["/srv/vms"])).toEqual({ volumes: [], mounts: [] });
  expect(hostDiskMounts(spec([{ name: "a", hostDisk: { path: "/srv/vms/a.img", type: "Disk" } }]), [])).toEqual({ volumes: [], mounts: [] });
});

test("Directory (never created) for Disk; read-only when every disk on it is read-only", () => {
  const ro = hostDiskMounts(spec([{ name: "iso", hostDisk: { path: "/srv/isos/x.iso", type: "Disk" } }], [{ name: "iso", cdrom: {} }]), ["/srv/isos"]);
  expect(ro.volumes[0]!.hostPath).toEqual({ path: "/srv/isos", type: "Directory" });
  expect(ro.mounts[0]!.readOnly).toBe(true);
  const rw = hostDiskMounts(spec([{ name: "d", hostDisk: { path: "/srv/isos/x.img", type: "Disk" } }]), ["/srv/isos"]);
  expect(rw.mounts[0]!.readOnly).toBeUndefined();
});
