/**
 * dataVolume: the claim of a DataVolume (KubeVirt names the claim after the
 * DataVolume), used in place like a persistentVolumeClaim volume, once its
 * import has finished: its disk.img is never created here (an empty disk
 * in place of an unfinished import would boot nothing), only found. The
 * import itself is the importer's (src/storage/import), before the VM starts.
 */
import { claimDisk, planClaimDisk, type ClaimUse } from "./claim-disk.ts";
import { checkVolumeName, StorageError, type PreparedDisk, type Volume, type VolumeContext, type VolumeProvider } from "./provider.ts";

function useOf(volume: Volume): ClaimUse {
  checkVolumeName(volume);
  const dv = volume.dataVolume;
  if (dv === undefined) throw new StorageError(volume.name, "invalid", "it has no dataVolume source");
  if (dv.name === "") throw new StorageError(volume.name, "invalid", "dataVolume.name is empty");
  if (dv.hotpluggable === true) throw new StorageError(volume.name, "invalid", "dataVolume.hotpluggable: bunvirt does not hotplug volumes");
  return { volume: volume.name, claimName: dv.name, create: false, readOnly: false };
}

async function plan(volume: Volume, ctx: VolumeContext): Promise<void> {
  try {
    await planClaimDisk(useOf(volume), ctx);
  } catch (error) {
    // A mounted claim without its disk: the import has not finished (an unmounted claim says so itself).
    if (error instanceof StorageError && error.code === "missing" && ctx.claims[volume.dataVolume?.name ?? ""] !== undefined) {
      throw new StorageError(volume.name, "missing", `DataVolume "${volume.dataVolume?.name ?? ""}" is not ready: ${error.reason}; its import has not finished`, { cause: error });
    }
    throw error;
  }
}

export function dataVolumeProvider(): VolumeProvider {
  return {
    kind: "dataVolume",
    async check(volume: Volume, ctx: VolumeContext): Promise<void> {
      await plan(volume, ctx);
    },
    async prepare(volume: Volume, ctx: VolumeContext): Promise<PreparedDisk> {
      await plan(volume, ctx);
      const disk = await claimDisk(useOf(volume), ctx);
      return { name: volume.name, kind: "dataVolume", path: disk.path, format: disk.format, readOnly: false, block: disk.block };
    },
    async cleanup(volume: Volume): Promise<string[]> {
      checkVolumeName(volume);
      return []; // the DataVolume's claim is persistent
    },
  };
}
