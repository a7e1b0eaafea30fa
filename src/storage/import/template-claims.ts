/**
 * A VM's dataVolumeTemplates as imports: each template's claim (a mount
 * given for its name, else a directory of its own under a claims root that
 * outlives the run, as KubeVirt keeps a DataVolume's PVC across restarts)
 * and its requested size. Pure except `ensureClaimDirs`.
 */
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { quantityBytes } from "../../api/quantity.ts";
import type { DataVolumeTemplate } from "../../api/v1/data-volume.ts";
import { pathUnder } from "../../paths/index.ts";
import type { ClaimMount } from "../provider.ts";
import type { ImportTarget } from "./import-data-volume.ts";

/** The requested size of a template (admission has made sure it is there). */
export function templateSize(t: DataVolumeTemplate): number {
  const q = (t.spec.storage ?? t.spec.pvc)?.resources?.requests?.storage;
  if (q === undefined) throw new Error(`Cannot import DataVolume "${t.metadata.name}": it gives no size (spec.storage.resources.requests.storage)`);
  return quantityBytes(q);
}

/** `<claimsRoot>/<namespace>/<name>`, proved to stay under the root (the names are admitted DNS-1123). */
export function defaultClaimPath(claimsRoot: string, namespace: string, name: string): string {
  return pathUnder(claimsRoot, namespace, name);
}

/**
 * The import of every template: into the claim mounted under its name when
 * there is one (`--claim NAME=PATH`, a pod's PVC), else into its own
 * directory under `claimsRoot`.
 */
export function templateImports(
  templates: readonly DataVolumeTemplate[],
  namespace: string,
  mounted: Readonly<Record<string, ClaimMount>>,
  claimsRoot: string,
): ImportTarget[] {
  return templates.map((t) => {
    const name = t.metadata.name;
    const sizeBytes = templateSize(t);
    const claim = mounted[name] ?? { path: defaultClaimPath(claimsRoot, namespace, name), capacity: sizeBytes };
    return { name, source: t.spec.source ?? {}, sizeBytes, claim };
  });
}

/** Creates the claim directories of `targets` that are under `claimsRoot` (search-only for others: QEMU needs to reach disk.img). */
export async function ensureClaimDirs(targets: readonly ImportTarget[], claimsRoot: string): Promise<void> {
  for (const t of targets) {
    if (t.claim.path.startsWith(`${resolve(claimsRoot)}/`)) await mkdir(t.claim.path, { recursive: true, mode: 0o711 });
  }
}
