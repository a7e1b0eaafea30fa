/**
 * The launcher pod's hostPath volumes for a VMI's hostDisk volumes (KubeVirt's
 * VolumeRenderer.handleHostDisk, with its CVE-2025-64324 fixes): each
 * allowed directory (setting host-disk-dirs) that one of the VMI's host disks
 * lies below is mounted once at `<hostDisks>/<the directory, URI-encoded>/`,
 * where the launcher reads it back (pod-mounts.ts) and walks to the file with
 * no symlink on the way. The kubelet is only ever given the operator's own
 * directory, never a path the VM owner chose: a hostPath follows symlinks on
 * the node. DirectoryOrCreate only when a DiskOrCreate needs it, else
 * Directory; read-only when every disk on it is read-only. A path below no
 * allowed directory gets no mount (the validating webhook refuses it; the
 * launcher would too).
 */
import { createHash } from "node:crypto";
import type { V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { allowedDirFor } from "../../api/host-disk-dirs.ts";
import type { VmiSpec } from "../../api/v1/vmi.ts";

/** Where the launcher container finds the allowed directories (one entry per directory, its name the URI-encoded path). */
export const hostDisksMountRoot = "/run/bunvirt/host-disks";

/** The mount of allowed directory `dir` in the launcher container. */
export function hostDiskMountPath(dir: string): string {
  return `${hostDisksMountRoot}/${encodeURIComponent(dir)}`;
}

/** True when every disk on the volume is read-only (a cdrom unless it says otherwise). */
function readOnlyUse(spec: VmiSpec, volume: string): boolean {
  const disks = (spec.domain.devices.disks ?? []).filter((d) => d.name === volume);
  return disks.length > 0 && disks.every((d) => (d.cdrom !== undefined ? d.cdrom.readonly !== false : (d.disk ?? d.lun)?.readonly === true));
}

export function hostDiskMounts(spec: VmiSpec, allowedDirs: readonly string[]): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const dirs = new Map<string, { create: boolean; readOnly: boolean }>();
  for (const vol of spec.volumes ?? []) {
    const hd = vol.hostDisk;
    if (hd === undefined) continue;
    const dir = allowedDirFor(hd.path, allowedDirs);
    if (dir === null) continue;
    const seen = dirs.get(dir) ?? { create: false, readOnly: true };
    dirs.set(dir, { create: seen.create || hd.type === "DiskOrCreate", readOnly: seen.readOnly && hd.type === "Disk" && readOnlyUse(spec, vol.name) });
  }
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  for (const [dir, use] of dirs) {
    const name = `hostdisk-${createHash("sha256").update(dir).digest("hex").slice(0, 20)}`;
    volumes.push({ name, hostPath: { path: dir, type: use.create ? "DirectoryOrCreate" : "Directory" } });
    mounts.push({ name, mountPath: hostDiskMountPath(dir), ...(use.readOnly ? { readOnly: true } : {}) });
  }
  return { volumes, mounts };
}
