/**
 * Facts for `bunvirt domain-xml`: the paths and devices the launcher would
 * use, without preparing anything. MACs not given in the spec are derived
 * from the VMI and interface names (locally administered, stable).
 */
import { applyVmiDefaults } from "../api/defaults.ts";
import { derivedMac } from "../api/mac.ts";
import type { VmiSpec } from "../api/v1/vmi.ts";
import type { LauncherFacts, PreparedVolume } from "./facts.ts";

export const placeholderRoot = "/var/run/bunvirt";

export function placeholderFacts(vmiKey: string, input: VmiSpec, emulation: boolean): LauncherFacts {
  const spec = applyVmiDefaults(input);
  const volumes: Record<string, PreparedVolume> = {};
  for (const v of spec.volumes ?? []) {
    const dir = `${placeholderRoot}/volumes/${v.name}`;
    if (v.persistentVolumeClaim !== undefined) volumes[v.name] = { kind: "file", path: `${dir}/disk.img`, format: "raw", readOnly: v.persistentVolumeClaim.readOnly ?? false };
    else if (v.cloudInitNoCloud !== undefined) volumes[v.name] = { kind: "file", path: `${dir}/cidata.iso`, format: "raw", readOnly: true };
    else if (v.containerDisk !== undefined) volumes[v.name] = { kind: "file", path: `${dir}/disk.qcow2`, format: "qcow2", backing: { path: `${placeholderRoot}/node-cache/${v.name}/disk.qcow2`, format: "qcow2" } };
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
  const efi = spec.domain.firmware?.bootloader?.efi;
  const secure = efi !== undefined && (efi.secureBoot ?? true);
  const kb = spec.domain.firmware?.kernelBoot?.container;
  return {
    emulation,
    volumes,
    interfaces,
    serialSocket: `${placeholderRoot}/console/serial0`,
    serialLog: `${placeholderRoot}/console/serial0.log`,
    ...(efi !== undefined
      ? { efi: secure
          ? { code: "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", vars: "/usr/share/OVMF/OVMF_VARS_4M.ms.fd", secureBoot: true }
          : { code: "/usr/share/OVMF/OVMF_CODE_4M.fd", vars: "/usr/share/OVMF/OVMF_VARS_4M.fd", secureBoot: false } }
      : {}),
    ...(kb !== undefined
      ? { kernelBoot: {
          kernel: `${placeholderRoot}/kernel-boot/${(kb.kernelPath ?? "/vmlinuz").split("/").pop()}`,
          ...(kb.initrdPath !== undefined ? { initrd: `${placeholderRoot}/kernel-boot/${kb.initrdPath.split("/").pop()}` } : {}),
        } }
      : {}),
  };
}
