/** The provider set: one provider per volume source key, picked by the key a volume sets. */
import { noCloudProvider } from "./cloudinit/no-cloud-provider.ts";
import { containerDiskProvider, type ContainerDiskOptions } from "./container-disk-provider.ts";
import { dataVolumeProvider } from "./data-volume-provider.ts";
import { emptyDiskProvider } from "./empty-disk-provider.ts";
import { ephemeralProvider } from "./ephemeral-provider.ts";
import { hostDiskProvider } from "./host-disk/host-disk-provider.ts";
import { providerKinds, StorageError, type ProviderKind, type Volume, type VolumeProvider } from "./provider.ts";
import { pvcProvider } from "./pvc-provider.ts";

export type ProviderSet = Readonly<Record<ProviderKind, VolumeProvider>>;

export interface ProviderSetOptions {
  /** qemu-img to run (default "qemu-img" on PATH). */
  readonly qemuImg?: string;
  /** Replaces the registry puller (tests). */
  readonly pull?: ContainerDiskOptions["pull"];
}

export function defaultProviders(options: ProviderSetOptions = {}): ProviderSet {
  const tools = options.qemuImg !== undefined ? { qemuImg: options.qemuImg } : {};
  return {
    persistentVolumeClaim: pvcProvider(),
    ephemeral: ephemeralProvider(tools),
    containerDisk: containerDiskProvider({ ...tools, ...(options.pull !== undefined ? { pull: options.pull } : {}) }),
    emptyDisk: emptyDiskProvider(tools),
    cloudInitNoCloud: noCloudProvider(),
    dataVolume: dataVolumeProvider(),
    hostDisk: hostDiskProvider(),
  };
}

/** The source key the volume sets; exactly one of the known keys, else a StorageError. */
export function sourceOf(volume: Volume): ProviderKind {
  const record = volume as unknown as Record<string, unknown>;
  const set = providerKinds.filter((k) => record[k] !== undefined);
  const unknown = Object.keys(record).filter((k) => k !== "name" && !(providerKinds as readonly string[]).includes(k) && record[k] !== undefined);
  if (unknown.length > 0) {
    throw new StorageError(String(volume.name), "invalid", `it has the source ${unknown.map((k) => `"${k}"`).join(", ")}, for which bunvirt has no provider (known: ${providerKinds.join(", ")})`);
  }
  if (set.length === 1) return set[0] as ProviderKind;
  throw new StorageError(
    String(volume.name),
    "invalid",
    set.length === 0 ? `it has no source; set one of ${providerKinds.join(", ")}` : `it has ${set.length} sources (${set.join(", ")}); set exactly one`,
  );
}

export function providerFor(volume: Volume, providers: ProviderSet = defaultProviders()): VolumeProvider {
  return providers[sourceOf(volume)];
}
