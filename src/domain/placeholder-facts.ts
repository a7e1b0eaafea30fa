/**
 * Facts for `bunvirt domain-xml`: the paths and devices the launcher would
 * use, without preparing anything (firmware is not among them: the builder
 * takes it from firmware-facts.ts, as in the launcher). MACs not given in the spec are derived
 * from the VMI and interface names (locally administered, stable).
 */
import { applyVmiDefaults } from "../api/defaults.ts";
import { derivedMac } from "../api/mac.ts";
import type { VmiSpec } from "../api/v1/vmi.ts";
import type { LauncherFacts, PreparedVolume } from "./facts.ts";
import { firmwareFacts } from "./firmware-facts.ts";

export const placeholderRoot = "/var/run/bunvirt";

export function placeholderFacts(vmiKey: string, input: VmiSpec, emulation: boolean): LauncherFacts {
  const spec = applyVmiDefaults(input);
  const volumes: Record<string, PreparedVolume> = {};
  for (const v of spec.volumes ?? []) {
    const dir = `${placeholderRoot}/volumes/${v.name}`;
    if (v.persistentVolumeClaim !== undefined) volumes[v.name] = { kind: "file", path: `${dir}/disk.img`, format: "raw", readOnly: v.persistentVolumeClaim.readOnly ?? false };
    else if (v.dataVolume !== undefined) volumes[v.name] = { kind: "file", path: `${dir}/disk.img`, format: "raw", readOnly: false };
    else if (v.cloudInitNoCloud !== undefined) volumes[v.name] = { kind: "file", path: `${dir}/cidata.iso`, format: "raw", readOnly: true };
    else if (v.containerDisk !== undefined) volumes[v.name] = { kind: "file", path: `${dir}/disk.qcow2`, format: "qcow2", backing: { path: `${placeholderRoot}/node-cache/${v.name}/disk.qcow2`, format: "qcow2" } };
    // The node's own path, as `bunvirt run` uses it (a launcher pod reaches it through its hostPath mount).
    else if (v.hostDisk !== undefined) volumes[v.name] = { kind: "file", path: v.hostDisk.path, format: "raw", readOnly: false, keepOwner: true };
    else if (v.ephemeral !== undefined) volumes[v.name] = { kind: "file", path: `${dir}/disk.qcow2`, format: "qcow2", backing: { path: `${placeholderRoot}/claims/${v.ephemeral.persistentVolumeClaim.claimName}/disk.img`, format: "raw" } };
    else volumes[v.name] = { kind: "file", path: `${dir}/disk.qcow2`, format: "qcow2" };
  }
  // A lun needs a block device: the claim's volumeDevice would be one.
  for (const d of spec.domain.devices.disks ?? []) {
    const vol = volumes[d.name];
    if (d.lun !== undefined && vol !== undefined) volumes[d.name] = { kind: "block", path: `/dev/bunvirt/${d.name}`, readOnly: vol.readOnly ?? false };
  }
  const interfaces: LauncherFacts["interfaces"] = {};
  (spec.domain.devices.interfaces ?? []).forEach((nic, i) => {
    interfaces[nic.name] = { tap: `tap${i}`, mac: nic.macAddress ?? derivedMac(vmiKey, nic.name), mtu: 1500 };
  });
  const kb = firmwareFacts(spec).kernelBoot;
  const c = spec.domain.cpu;
  const pinned = c?.dedicatedCpuPlacement === true ? (c.sockets ?? 1) * (c.cores ?? 1) * (c.threads ?? 1) + (c.isolateEmulatorThread === true ? 1 : 0) : 0;
  return {
    emulation,
    ...(pinned > 0 ? { cpus: Array.from({ length: pinned }, (_, i) => i) } : {}),
    volumes,
    interfaces,
    serialSocket: `${placeholderRoot}/console/serial0`,
    serialLog: `${placeholderRoot}/console/serial0.log`,
    ...(kb !== undefined
      ? { kernelBoot: {
          kernel: `${placeholderRoot}/volumes/${kb.kernel.fileName}`,
          ...(kb.initrd !== undefined ? { initrd: `${placeholderRoot}/volumes/${kb.initrd.fileName}` } : {}),
        } }
      : {}),
  };
}
