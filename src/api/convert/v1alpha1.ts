/**
 * kubevirt.io/v1alpha1 (the seed's VirtualMachine) <-> kubevirt.io/v1
 * VirtualMachine, lossless in both directions.
 *
 * The core mapping: spec.{domain,volumes,...} <-> spec.template.spec.{...};
 * a v1alpha1 disk's volumeName <-> its v1 volume, which takes the disk's
 * name; registryDisk <-> containerDisk; a v1alpha1 VM runs once created, so
 * v1 says runStrategy Always. Whatever the core mapping cannot carry rides in
 * an annotation as a JSON merge patch that restores it.
 */
import { apply, diff, type Json } from "./merge-patch.ts";

export const v1ResidueAnnotation = "bunvirt.io/v1-fields";
export const v1alpha1ResidueAnnotation = "bunvirt.io/v1alpha1-fields";

type Obj = Record<string, any>;

const clone = <T>(x: T): T => structuredClone(x);

/** What one version keeps for the other: v1alpha1 volume names (by disk) and a patch for the rest. */
interface Residue {
  volumeNames?: Record<string, string>;
  patch?: Json;
  /** Set when the annotations map exists only to hold this residue. */
  ownsAnnotations?: true;
}

/** Removes our annotation; returns the object without it and the residue it held. */
function takeResidue(obj: Obj, key: string): { rest: Obj; residue: Residue } {
  const rest = clone(obj);
  const annotations = rest.metadata?.annotations as Record<string, string> | undefined;
  const raw = annotations?.[key];
  if (annotations === undefined || raw === undefined) return { rest, residue: {} };
  delete annotations[key];
  let residue: Residue;
  try {
    residue = JSON.parse(raw) as Residue;
  } catch (cause) {
    throw new Error(`Cannot convert: annotation "${key}" is not valid JSON`, { cause });
  }
  if (residue.ownsAnnotations === true && Object.keys(annotations).length === 0) delete rest.metadata.annotations;
  return { rest, residue };
}

function putResidue(obj: Obj, key: string, residue: Residue): Obj {
  if (residue.patch === undefined) delete residue.patch;
  if (residue.volumeNames !== undefined && Object.keys(residue.volumeNames).length === 0) delete residue.volumeNames;
  if (Object.keys(residue).length === 0) return obj;
  obj.metadata ??= {};
  if (obj.metadata.annotations === undefined) residue.ownsAnnotations = true;
  obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [key]: JSON.stringify(residue) };
  return obj;
}

/** v1alpha1 volume names that differ from their disk's name, keyed by disk name. */
function volumeNamesOf(alpha: Obj): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of (alpha.spec?.domain?.devices?.disks ?? []) as Obj[]) if (d.volumeName !== d.name) out[d.name] = d.volumeName;
  return out;
}

function upCore(alpha: Obj): Obj {
  const { domain, volumes, ...rest } = clone(alpha.spec ?? {}) as Obj;
  const disks: Obj[] = domain?.devices?.disks ?? [];
  const diskByVolume = new Map<string, string>();
  for (const d of disks) if (!diskByVolume.has(d.volumeName)) diskByVolume.set(d.volumeName, d.name);
  const v1Domain = clone(domain ?? {});
  if (v1Domain.devices?.disks !== undefined) {
    v1Domain.devices.disks = disks.map(({ volumeName: _, ...d }) => d);
  }
  const spec: Obj = { domain: v1Domain, ...rest };
  if (volumes !== undefined) {
    spec.volumes = (volumes as Obj[]).map(({ registryDisk, ...vol }) => {
      const out: Obj = { ...vol, name: diskByVolume.get(vol.name) ?? vol.name };
      if (registryDisk !== undefined) out.containerDisk = registryDisk;
      return out;
    });
  }
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: clone(alpha.metadata ?? {}),
    spec: { runStrategy: "Always", template: { spec } },
    ...(alpha.status !== undefined ? { status: clone(alpha.status) } : {}),
  };
}

const alphaSpecKeys = ["terminationGracePeriodSeconds", "hostname", "nodeSelector"];
const alphaDeviceKeys = ["disks", "autoattachSerialConsole", "autoattachPodInterface", "autoattachMemBalloon", "rng"];
const registryDiskKeys = ["image", "imagePullSecret"];

function downCore(v1: Obj, volumeNames: Record<string, string> = {}): Obj {
  const tspec: Obj = clone(v1.spec?.template?.spec ?? {});
  const domain: Obj = tspec.domain ?? {};
  const devices: Obj = {};
  for (const k of alphaDeviceKeys) if (domain.devices?.[k] !== undefined) devices[k] = domain.devices[k];
  if (devices.disks !== undefined) devices.disks = (devices.disks as Obj[]).map((d) => ({ ...d, volumeName: volumeNames[d.name] ?? d.name }));
  // v1alpha1 has no disk defaulting (each volume needs its disk): a v1 volume without one gets the disk KubeVirt's
  // defaulting would give it (the residue takes it away again on the way back).
  const withDisk = new Set(((domain.devices?.disks ?? []) as Obj[]).map((d) => d.name));
  const diskless = ((tspec.volumes ?? []) as Obj[]).filter((v) => !withDisk.has(v.name));
  if (diskless.length > 0) {
    devices.disks = [...((devices.disks ?? []) as Obj[]), ...diskless.map((v) => ({ name: v.name, volumeName: volumeNames[v.name] ?? v.name, disk: { bus: "virtio" } }))];
  }
  const spec: Obj = { domain: { ...domain, devices } };
  if (tspec.volumes !== undefined) {
    spec.volumes = (tspec.volumes as Obj[]).map(({ containerDisk, ...v1vol }) => {
      const vol = { ...v1vol, name: volumeNames[v1vol.name] ?? v1vol.name };
      if (containerDisk === undefined) return vol;
      const registryDisk: Obj = {};
      for (const k of registryDiskKeys) if (containerDisk[k] !== undefined) registryDisk[k] = containerDisk[k];
      return { ...vol, registryDisk };
    });
  }
  for (const k of alphaSpecKeys) if (tspec[k] !== undefined) spec[k] = tspec[k];
  return {
    apiVersion: "kubevirt.io/v1alpha1",
    kind: "VirtualMachine",
    metadata: clone(v1.metadata ?? {}),
    spec,
    ...(v1.status !== undefined ? { status: clone(v1.status) } : {}),
  };
}

/** v1alpha1 VirtualMachine -> v1 VirtualMachine. */
export function alphaToV1(alpha: Obj): Obj {
  const { rest, residue } = takeResidue(alpha, v1ResidueAnnotation);
  const base = upCore(rest);
  const v1 = residue.patch === undefined ? base : (apply(base as Json, residue.patch) as Obj);
  // What v1 cannot say of this v1alpha1 object: its volume names, and anything else.
  const volumeNames = volumeNamesOf(rest);
  return putResidue(v1, v1alpha1ResidueAnnotation, { volumeNames, patch: diff(downCore(v1, volumeNames) as Json, rest as Json) });
}

/** v1 VirtualMachine -> v1alpha1 VirtualMachine. */
export function v1ToAlpha(v1: Obj): Obj {
  const { rest, residue } = takeResidue(v1, v1alpha1ResidueAnnotation);
  const base = downCore(rest, residue.volumeNames);
  const alpha = residue.patch === undefined ? base : (apply(base as Json, residue.patch) as Obj);
  return putResidue(alpha, v1ResidueAnnotation, { patch: diff(upCore(alpha) as Json, rest as Json) });
}
