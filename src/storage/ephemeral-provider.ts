/**
 * ephemeral: a claim's disk used as the read-only backing file of a qcow2
 * overlay in the VM's state directory. The VM writes to the overlay only;
 * the overlay is made at prepare and deleted at cleanup, so the claim is
 * exactly as it was when the VM stops.
 */
import { resolve } from "node:path";
import { pathUnder } from "../paths/index.ts";
import { planClaimDisk, type ClaimUse } from "./claim-disk.ts";
import { requireStateDir } from "./files.ts";
import { findOverlay, makeOverlay, removeOverlay, type OverlayOf } from "./overlay.ts";
import { checkVolumeName, StorageError, type PreparedDisk, type Volume, type VolumeContext, type VolumeProvider } from "./provider.ts";
import { defaultQemuImg } from "./qemu-img.ts";

export interface EphemeralOptions {
  readonly qemuImg?: string;
}

export function ephemeralOverlayPath(stateDir: string, volume: string): string {
  return pathUnder(stateDir, `${volume}.ephemeral.qcow2`);
}

function useOf(volume: Volume): ClaimUse {
  checkVolumeName(volume);
  const claim = volume.ephemeral?.persistentVolumeClaim;
  if (claim === undefined) throw new StorageError(volume.name, "invalid", "it has no ephemeral.persistentVolumeClaim source");
  if (claim.claimName === "") throw new StorageError(volume.name, "invalid", "ephemeral.persistentVolumeClaim.claimName is empty");
  // The claim is only read: never create its disk, whatever readOnly says.
  return { volume: volume.name, claimName: claim.claimName, create: false, readOnly: true };
}

export function ephemeralProvider(options: EphemeralOptions = {}): VolumeProvider {
  const qemuImg = options.qemuImg ?? defaultQemuImg;
  const plan = async (volume: Volume, ctx: VolumeContext): Promise<{ overlay: OverlayOf; backing: string; format: "raw" | "qcow2" }> => {
    const use = useOf(volume);
    await requireStateDir(volume.name, ctx.stateDir);
    const found = await planClaimDisk(use, ctx);
    if (found.kind !== "found") throw new StorageError(volume.name, "missing", `claim "${use.claimName}" holds no disk`);
    return { overlay: { volume: volume.name, root: ctx.stateDir, path: ephemeralOverlayPath(ctx.stateDir, volume.name) }, backing: resolve(found.disk.path), format: found.disk.format };
  };
  return {
    kind: "ephemeral",
    async check(volume: Volume, ctx: VolumeContext): Promise<void> {
      await plan(volume, ctx);
    },
    async prepare(volume: Volume, ctx: VolumeContext): Promise<PreparedDisk> {
      const p = await plan(volume, ctx);
      // An overlay over another disk (the claim changed, or a crash left it) is stale; the overlay is disposable: replace it.
      const existing = await findOverlay(p.overlay).catch((e: unknown) => {
        if (e instanceof StorageError && e.code === "missing") return "gone" as const;
        throw e;
      });
      if (existing !== null && existing !== p.backing) {
        ctx.log.warn("replacing a stale ephemeral overlay", { volume: volume.name, was: existing === "gone" ? "a disk that is gone" : existing, now: p.backing });
        await removeOverlay(p.overlay);
      }
      if (existing !== p.backing) {
        await makeOverlay(p.overlay, qemuImg, p.backing, p.format);
        ctx.log.info("created an ephemeral overlay", { volume: volume.name, path: p.overlay.path, backing: p.backing });
      }
      return { name: volume.name, kind: "ephemeral", path: p.overlay.path, format: "qcow2", readOnly: false, block: false, backing: { path: p.backing, format: p.format } };
    },
    async cleanup(volume: Volume, ctx: VolumeContext): Promise<string[]> {
      checkVolumeName(volume);
      return removeOverlay({ volume: volume.name, root: ctx.stateDir, path: ephemeralOverlayPath(ctx.stateDir, volume.name) });
    },
  };
}
