/**
 * The pvc source (a clone): the source claim's disk (disk.img in a
 * filesystem-mode claim, or the device) copied as raw into the new claim.
 * The source claim is found among the mounted claims by name and opened
 * under the same rules as a persistentVolumeClaim volume (no symlink out
 * of it, no qcow2 with a backing file), read-only.
 */
import type { DataVolumeSource } from "../../api/v1/data-volume.ts";
import { planClaimDisk } from "../claim-disk.ts";
import type { VolumeContext } from "../provider.ts";
import { silentLog } from "../provider.ts";
import type { ImportJob } from "./import-job.ts";
import { rawFrom } from "./raw-from.ts";

type Pvc = NonNullable<DataVolumeSource["pvc"]>;

export async function importClone(job: ImportJob, pvc: Pvc): Promise<void> {
  const ctx: VolumeContext = { stateDir: job.root, claims: job.ctx.claims, secrets: {}, vmi: { namespace: pvc.namespace, name: job.name }, log: silentLog };
  const plan = await planClaimDisk({ volume: job.name, claimName: pvc.name, create: false, readOnly: true }, ctx);
  if (plan.kind !== "found") throw new Error(`Cannot clone claim "${pvc.name}": it holds no disk`);
  await rawFrom(job, plan.disk.path, false);
}
