/**
 * persistentVolumeClaim: the claim's own disk, used in place. Filesystem
 * mode: `disk.img` in the claim's mount, created sparse at the claim's
 * capacity when absent, never overwritten, format read from its content.
 * Block mode: the device. The claim is persistent: cleanup leaves it alone.
 */
import { claimDisk, planClaimDisk, type ClaimUse } from "./claim-disk.ts";
import { checkVolumeName, StorageError, type PreparedDisk, type Volume, type VolumeContext, type VolumeProvider } from "./provider.ts";

function useOf(volume: Volume): ClaimUse {
  checkVolumeName(volume);
  const claim = volume.persistentVolumeClaim;
  if (claim === undefined) throw new StorageError(volume.name, "invalid", "it has no persistentVolumeClaim source");
  if (claim.claimName === "") throw new StorageError(volume.name, "invalid", "persistentVolumeClaim.claimName is empty");
  const readOnly = claim.readOnly === true;
  return { volume: volume.name, claimName: claim.claimName, create: true, readOnly };
}

export function pvcProvider(): VolumeProvider {
  return {
    kind: "persistentVolumeClaim",
    async check(volume: Volume, ctx: VolumeContext): Promise<void> {
      await planClaimDisk(useOf(volume), ctx);
    },
    async prepare(volume: Volume, ctx: VolumeContext): Promise<PreparedDisk> {
      const use = useOf(volume);
      const disk = await claimDisk(use, ctx);
      return { name: volume.name, kind: "persistentVolumeClaim", path: disk.path, format: disk.format, readOnly: use.readOnly, block: disk.block };
    },
    async cleanup(volume: Volume): Promise<string[]> {
      checkVolumeName(volume);
      return []; // persistent: the claim and its disk.img stay
    },
  };
}
