/**
 * Volume providers: persistentVolumeClaim, ephemeral, containerDisk (and
 * v1alpha1 registryDisk, which converts to it), emptyDisk, cloudInitNoCloud,
 * hostDisk,
 * all behind one interface (provider.ts), picked by the volume's source key.
 */
export {
  checkVolumeName,
  providerKinds,
  silentLog,
  StorageError,
  toPreparedVolume,
  type ClaimMount,
  type HostDiskRoot,
  type PreparedDisk,
  type ProviderKind,
  type RegistrySettings,
  type StorageErrorCode,
  type StorageLog,
  type VmiRef,
  type Volume,
  type VolumeContext,
  type VolumeProvider,
} from "./provider.ts";
export { defaultProviders, providerFor, sourceOf, type ProviderSet, type ProviderSetOptions } from "./providers.ts";
export { cleanupVolumes, prepareVolumes, type CleanedVolume, type PreparedVolumes } from "./prepare-volumes.ts";
export { pvcProvider } from "./pvc-provider.ts";
export { ephemeralProvider, ephemeralOverlayPath, type EphemeralOptions } from "./ephemeral-provider.ts";
export { containerDiskProvider, containerDiskOverlayPath, pullSecretKeys, type ContainerDiskOptions } from "./container-disk-provider.ts";
export { emptyDiskProvider, emptyDiskPath, type EmptyDiskOptions } from "./empty-disk-provider.ts";
export { noCloudProvider, cidataPath, cidataVolumeId } from "./cloudinit/no-cloud-provider.ts";
export { hostDiskProvider, type HostDiskOptions } from "./host-disk/host-disk-provider.ts";
export { claimDiskName } from "./claim-disk.ts";
export { prepareKernelBoot, type PreparedKernelBoot } from "./kernel-boot.ts";
