/** The DataVolume importer: a source (http, registry, blank, pvc clone) into a claim's disk.img. */
export { importDataVolume, type ImportOutcome, type ImportTarget } from "./import-data-volume.ts";
export type { ImportContext, ImportLimits, ImportProgress } from "./import-job.ts";
export { defaultClaimPath, ensureClaimDirs, templateImports, templateSize } from "./template-claims.ts";
