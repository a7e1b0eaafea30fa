/**
 * cloudInitNoCloud: a "cidata" ISO in the VM's state directory holding
 * meta-data, user-data and (when given) network-config, built in process.
 * Data comes inline (clear or base64) or from a mounted Secret, read as
 * KubeVirt reads it (`userdata` then `userData`; `networkdata` then
 * `networkData`). A Secret's content never appears in a log line, an error
 * or the result.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { pathUnder } from "../../paths/index.ts";
import { lstatOrNull, removeIfPresent, removeTempLeftovers, requireStateDir, tempPathFor } from "../files.ts";
import { checkVolumeName, StorageError, type PreparedDisk, type Volume, type VolumeContext, type VolumeProvider } from "../provider.ts";
import { readSecretKey } from "../secrets.ts";
import { buildIso, type IsoFile } from "./iso9660/index.ts";
import { metaData, planNoCloud, type DataSource } from "./no-cloud-data.ts";

export const cidataVolumeId = "cidata";

export function cidataPath(stateDir: string, volume: string): string {
  return pathUnder(stateDir, `${volume}.cidata.iso`);
}

async function dataOf(volume: string, what: string, source: DataSource | undefined, ctx: VolumeContext): Promise<Uint8Array | undefined> {
  if (source === undefined) return undefined;
  return source.from === "inline" ? source.bytes : (await readSecretKey(volume, what, source.secret, source.keys, ctx)).bytes;
}

/** The ISO's bytes for the volume (everything checked; nothing written). */
export async function cidataImage(volume: Volume, ctx: VolumeContext): Promise<Uint8Array> {
  checkVolumeName(volume);
  const plan = planNoCloud(volume);
  const user = await dataOf(volume.name, "user-data", plan.user, ctx);
  const network = await dataOf(volume.name, "network-data", plan.network, ctx);
  const files: IsoFile[] = [
    { name: "meta-data", data: new TextEncoder().encode(metaData(ctx.vmi)) },
    { name: "user-data", data: user ?? new Uint8Array(0) },
  ];
  if (network !== undefined) files.push({ name: "network-config", data: network });
  return buildIso({ volumeId: cidataVolumeId, files });
}

/** True when `path` already holds exactly `bytes`; anything but a regular file there is a conflict. */
async function holds(volume: string, path: string, bytes: Uint8Array): Promise<boolean> {
  const entry = await lstatOrNull(path);
  if (entry === null) return false;
  if (!entry.isFile()) throw new StorageError(volume, "conflict", `"${path}" is in the way: it is not a regular file`);
  if (entry.size !== bytes.length) return false;
  const current = new Uint8Array(await readFile(path));
  return Buffer.compare(current, bytes) === 0;
}

export function noCloudProvider(): VolumeProvider {
  return {
    kind: "cloudInitNoCloud",
    async check(volume: Volume, ctx: VolumeContext): Promise<void> {
      await cidataImage(volume, ctx);
      await requireStateDir(volume.name, ctx.stateDir);
    },
    async prepare(volume: Volume, ctx: VolumeContext): Promise<PreparedDisk> {
      const image = await cidataImage(volume, ctx);
      await requireStateDir(volume.name, ctx.stateDir);
      const path = cidataPath(ctx.stateDir, volume.name);
      if (!(await holds(volume.name, path, image))) {
        const temp = tempPathFor(path);
        try {
          await writeFile(temp, image, { flag: "wx", mode: 0o644 });
          await rename(temp, path); // new data (a changed Secret) replaces the old disk whole
        } catch (cause) {
          await rm(temp, { force: true });
          throw new StorageError(volume.name, "io", `cannot write "${path}": ${(cause as Error).message}`, { cause });
        }
        ctx.log.info("wrote the cloud-init NoCloud disk", { volume: volume.name, path, bytes: image.length });
      }
      return { name: volume.name, kind: "cloudInitNoCloud", path, format: "raw", readOnly: true, block: false };
    },
    async cleanup(volume: Volume, ctx: VolumeContext): Promise<string[]> {
      checkVolumeName(volume);
      const path = cidataPath(ctx.stateDir, volume.name);
      const gone = await removeTempLeftovers(ctx.stateDir, path);
      if (await removeIfPresent(ctx.stateDir, path)) gone.push(path);
      return gone;
    },
  };
}
