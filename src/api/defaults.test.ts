import { expect, test } from "bun:test";
import { applyVmiDefaults } from "./defaults.ts";
import type { VmiSpec } from "./v1/vmi.ts";

const base = (): VmiSpec => ({ domain: { devices: { disks: [{ name: "a" }, { name: "b", cdrom: {} }, { name: "c", lun: {} }, { name: "d", disk: { bus: "sata" } }] } } });

test("disk targets get KubeVirt's default buses", () => {
  const s = applyVmiDefaults(base());
  expect(s.domain.devices.disks).toEqual([
    { name: "a", disk: { bus: "virtio" } },
    { name: "b", cdrom: { bus: "sata", readonly: true } },
    { name: "c", lun: { bus: "scsi" } },
    { name: "d", disk: { bus: "sata" } },
  ]);
  expect(s.domain.machine?.type).toBe("q35");
});

test("a volume no disk uses gets a virtio disk of its name, after the given disks, in the volumes' order", () => {
  const s = applyVmiDefaults({
    domain: { devices: { disks: [{ name: "root", disk: { bus: "sata" } }] } },
    volumes: [{ name: "cidata", cloudInitNoCloud: { userData: "#cloud-config" } }, { name: "root", emptyDisk: { capacity: "1Gi" } }, { name: "scratch", emptyDisk: { capacity: "1Gi" } }],
  });
  expect(s.domain.devices.disks).toEqual([
    { name: "root", disk: { bus: "sata" } },
    { name: "cidata", disk: { bus: "virtio" } },
    { name: "scratch", disk: { bus: "virtio" } },
  ]);
});

test("no interfaces and no networks: the pod network with masquerade", () => {
  const s = applyVmiDefaults(base());
  expect(s.domain.devices.interfaces).toEqual([{ name: "default", masquerade: {}, model: "virtio" }]);
  expect(s.networks).toEqual([{ name: "default", pod: {} }]);
});

test("autoattachPodInterface: false leaves the VM without a NIC", () => {
  const b = base();
  b.domain.devices.autoattachPodInterface = false;
  const s = applyVmiDefaults(b);
  expect(s.domain.devices.interfaces).toEqual([]);
  expect(s.networks).toBeUndefined();
});

test("the input is not modified", () => {
  const b = base();
  applyVmiDefaults(b);
  expect(b).toEqual(base());
});

test("no topology: as many sockets as the CPU limit, else the request, rounded up (KubeVirt); a topology or one CPU stays", () => {
  const cpuOf = (domain: Partial<VmiSpec["domain"]>) => applyVmiDefaults({ domain: { devices: {}, ...domain } }).domain.cpu;
  expect(cpuOf({ resources: { limits: { cpu: "3" }, requests: { cpu: "2" } } })).toEqual({ sockets: 3 });
  expect(cpuOf({ resources: { requests: { cpu: "1500m" } } })).toEqual({ sockets: 2 });
  expect(cpuOf({ resources: { requests: { cpu: "500m" } } })).toBeUndefined();
  expect(cpuOf({ cpu: { cores: 2 }, resources: { requests: { cpu: "4" } } })).toEqual({ cores: 2 });
});
