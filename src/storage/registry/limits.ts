/**
 * The limits the puller applies to what a registry sends. A registry is not
 * trusted: every body is read with a cap enforced while reading, every
 * request has an idle timeout, and a disk may not grow past a maximum size.
 */

/** No byte for this long while waiting for headers or body: the request fails (`--registry-timeout`). */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** A disk's uncompressed size may not exceed this (`--max-disk-size`). */
export const DEFAULT_MAX_DISK_BYTES = 64 * 2 ** 30;
/** A layer's uncompressed tar may be at most twice the maximum disk size plus this (other files, headers). */
export const LAYER_SLACK_BYTES = 64 * 2 ** 20;
/** Manifests and indexes (containerd's limit). */
export const MAX_MANIFEST_BYTES = 4 * 2 ** 20;
/** Image configs. */
export const MAX_CONFIG_BYTES = 8 * 2 ** 20;
/** Token server answers. */
export const MAX_TOKEN_BYTES = 2 ** 20;
/** Error bodies: only this much is read, the rest is dropped. */
export const MAX_ERROR_BYTES = 64 * 2 ** 10;
/** Redirects followed for one request. */
export const MAX_REDIRECTS = 5;

/** "4 MiB", "64 GiB", "1000 bytes". */
export function formatBytes(n: number): string {
  const units = ["GiB", "MiB", "KiB"] as const;
  for (const [i, unit] of units.entries()) {
    const size = 2 ** (30 - 10 * i);
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} bytes`;
}

/** "30 s", "1.5 s". */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
