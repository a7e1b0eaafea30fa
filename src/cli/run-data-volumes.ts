/**
 * `bunvirt run`'s DataVolumes: a VM's dataVolumeTemplates are imported into
 * their claims before anything else (outside the run's network namespace,
 * where a server on this host's 127.0.0.1 is reachable), and the claims
 * are added to the run's mounts so the VM's dataVolume volumes find them.
 * An import that finished earlier is not redone; the claims outlive the
 * run until the user removes them.
 */
import type { VmLike } from "../api/validate.ts";
import type { DataVolumeTemplate } from "../api/v1/data-volume.ts";
import { ensureClaimDirs, importDataVolume, templateImports, type ImportProgress } from "../storage/import/index.ts";
import type { ClaimMount, RegistrySettings } from "../storage/provider.ts";
import type { Logger } from "../log/logger.ts";

/** Where `bunvirt run` keeps DataVolume claims when no --claim names them: NAMESPACE/NAME/disk.img below it. */
export const defaultClaimsDir = "/var/lib/bunvirt/claims";

export function dataVolumeTemplatesOf(valid: VmLike): readonly DataVolumeTemplate[] {
  return valid.key === "v1/VirtualMachine" ? (valid.object.spec.dataVolumeTemplates ?? []) : [];
}

export interface RunImports {
  readonly templates: readonly DataVolumeTemplate[];
  readonly namespace: string;
  /** The run's --claim mounts; a template's claim is added for each template. */
  readonly claims: Readonly<Record<string, ClaimMount>>;
  readonly claimsDir: string;
  readonly secrets: Readonly<Record<string, string>>;
  readonly registry: RegistrySettings;
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/** Imports every template (one after the other) and returns the claims with theirs added. */
export async function importRunDataVolumes(r: RunImports): Promise<Record<string, ClaimMount>> {
  const targets = templateImports(r.templates, r.namespace, r.claims, r.claimsDir);
  await ensureClaimDirs(targets, r.claimsDir);
  const logStorage = {
    info: (m: string, f?: Readonly<Record<string, string | number | boolean>>) => r.log(`run: ${m}${f === undefined ? "" : ` ${JSON.stringify(f)}`}`),
    warn: (m: string, f?: Readonly<Record<string, string | number | boolean>>) => r.log.warn(`run: ${m}${f === undefined ? "" : ` ${JSON.stringify(f)}`}`),
  };
  let last = 0;
  const onProgress = (p: ImportProgress): void => {
    const now = Date.now();
    if (p.phase !== "done" && now - last < 2000) return;
    last = now;
    const pct = p.percent === null ? `${(p.bytes / 2 ** 20).toFixed(1)} MiB` : `${p.percent.toFixed(2)}%`;
    r.log(`run: DataVolume "${p.dataVolume}": ${p.phase} ${pct}`);
  };
  for (const t of targets) {
    // --registry-timeout bounds an http source's silences too.
    const limits = r.registry.timeoutMs !== undefined ? { stallMs: r.registry.timeoutMs } : {};
    const out = await importDataVolume(t, { claims: r.claims, secrets: r.secrets, registry: r.registry, log: logStorage, signal: r.signal, onProgress, limits });
    r.log(`run: DataVolume "${t.name}" ${out.state === "present" ? "was imported before" : "imported"}: ${out.path}`);
  }
  return { ...r.claims, ...Object.fromEntries(targets.map((t) => [t.name, t.claim])) };
}
