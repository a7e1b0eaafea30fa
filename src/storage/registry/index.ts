/**
 * containerDisk / registryDisk: pulls a VM disk from an OCI registry in
 * process (distribution API v2), verifies every blob, extracts the single
 * disk file and keeps it in a content-addressed node cache.
 */
export { pullDisk, type PullOptions, type PullResult } from "./pull.ts";
export type { PullProgress, ProgressListener } from "./progress.ts";
export { PullError, DigestMismatchError, type PullErrorCode } from "./errors.ts";
export {
  parseReference,
  formatReference,
  InvalidReferenceError,
  type ImageReference,
  type ParseReferenceOptions,
} from "./reference.ts";
export {
  parseDockerConfigJson,
  credentialsFor,
  normalizeRegistryKey,
  InvalidDockerConfigError,
  type DockerConfig,
  type RegistryCredentials,
} from "./docker-config.ts";
export { parseWwwAuthenticate, type AuthChallenge } from "./www-authenticate.ts";
export { selectPlatform, DEFAULT_PLATFORM } from "./platform.ts";
export type { Platform, Descriptor } from "./manifest.ts";
export { DiskCache, cacheKey, type CacheEntry, type CacheMetadata } from "./cache.ts";
export { detectDiskFormat, type DiskFormat, type DiskInfo } from "./disk-format.ts";
export { diskScope, InvalidDiskPathError } from "./disk-selection.ts";
