/**
 * The leader writes the shipped instancetypes and preferences (common.ts)
 * by server-side apply once per term, retried until written (their CRDs may
 * not be established yet on a fresh install): a missing one is made, a
 * changed one set back to what this version ships, as KubeVirt's operator
 * keeps its common instancetypes. Objects of other names are left alone.
 */
import { KubeRest, resourcePath } from "../../../kube/rest.ts";
import type { Logger } from "../../../log/logger.ts";
import { retryUntil, type Retrying } from "../../../retry/retry-until.ts";
import { fieldManager } from "../webhook-server.ts";
import { commonInstancetypes } from "./common.ts";
import { instancetypeResources } from "./resources.ts";

export async function applyCommonInstancetypes(rest: KubeRest): Promise<void> {
  for (const obj of commonInstancetypes) {
    await rest.apply(resourcePath(instancetypeResources[obj.kind], undefined, obj.metadata.name), obj, fieldManager);
  }
}

export function keepCommonInstancetypes(rest: KubeRest, log: Logger): Retrying {
  return retryUntil(async (_, retrying) => {
    await applyCommonInstancetypes(rest);
    if (!retrying.stopped) log(`applied ${commonInstancetypes.length} cluster instancetypes and preferences (${commonInstancetypes.map((o) => o.metadata.name).join(", ")})`);
  }, (e) => log.warn(`Cannot apply the shipped instancetypes and preferences: ${e.message}; retrying`));
}
