/**
 * How big a DiskOrCreate file may be made, given the directory's free space,
 * as KubeVirt decides it (pkg/host-disk: lessPVCSpaceToleration 10 %,
 * minimumPVCReserveBytes 128 KiB): the capacity asked when it fits; when up
 * to 10 % more than the free space is asked, the free space (a file a bit
 * smaller than asked, said in a warning); beyond that a refusal. Pure.
 */

/** KubeVirt's default: a directory may have up to 10 % less free space than the capacity asked. */
export const lessSpaceTolerancePercent = 10;
/** KubeVirt's default: free space kept back from the file. */
export const reserveBytes = 128 * 1024;

const SECTOR = 512;

export type SizeDecision =
  | { readonly ok: true; readonly bytes: number; readonly shrunk: boolean }
  | { readonly ok: false; readonly reason: string };

/** The size to create for `requested` bytes (whole sectors) when the directory has `freeBytes` free for an unprivileged writer. */
export function sizeToCreate(requested: number, freeBytes: number, tolerancePercent = lessSpaceTolerancePercent, reserve = reserveBytes): SizeDecision {
  const available = Math.max(0, freeBytes - reserve);
  if (requested <= available) return { ok: true, bytes: requested, shrunk: false };
  const tolerated = Math.floor((requested * (100 - tolerancePercent)) / 100);
  const bytes = Math.floor(available / SECTOR) * SECTOR;
  if (tolerated > available || bytes < SECTOR) {
    return {
      ok: false,
      reason: `the capacity of ${requested} bytes is more than the ${available} bytes free in its directory (after ${reserve} bytes kept in reserve), even with ${tolerancePercent}% tolerated`,
    };
  }
  return { ok: true, bytes, shrunk: true };
}
