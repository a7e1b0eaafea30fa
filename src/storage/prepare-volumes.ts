/**
 * All volumes of a VMI, as the launcher prepares them: every volume is
 * checked before any is prepared, then all are prepared (in parallel); when
 * one fails, the ones already prepared are cleaned up before the error is
 * rethrown, so a failed start leaves the state directory as it was.
 */
import type { VmiSpec } from "../api/v1/vmi.ts";
import type { PreparedVolume } from "../domain/facts.ts";
import { defaultProviders, sourceOf, type ProviderSet } from "./providers.ts";
import { StorageError, toPreparedVolume, type PreparedDisk, type ProviderKind, type Volume, type VolumeContext, type VolumeProvider } from "./provider.ts";

export interface PreparedVolumes {
  /** By volume name, as the domain converter takes them (LauncherFacts.volumes). */
  readonly prepared: Record<string, PreparedVolume>;
  /** Every volume's result, in spec order. */
  readonly disks: readonly PreparedDisk[];
  /** Removes what prepare created (at VM stop). */
  cleanup(): Promise<void>;
}

export interface CleanedVolume {
  readonly name: string;
  readonly kind: ProviderKind;
  readonly removed: readonly string[];
}

interface Bound {
  readonly volume: Volume;
  readonly provider: VolumeProvider;
}

/** The context with the VMI's hostname taken from the spec, as the guest will know it. */
function contextFor(spec: VmiSpec, ctx: VolumeContext): VolumeContext {
  const hostname = spec.hostname ?? ctx.vmi.hostname;
  return { ...ctx, vmi: { ...ctx.vmi, ...(hostname !== undefined ? { hostname } : {}) } };
}

function bind(spec: VmiSpec, providers: ProviderSet): Bound[] {
  const seen = new Set<string>();
  return (spec.volumes ?? []).map((volume) => {
    if (seen.has(volume.name)) throw new StorageError(volume.name, "invalid", "another volume has the same name");
    seen.add(volume.name);
    return { volume, provider: providers[sourceOf(volume)] };
  });
}

/** The first rejection in `results` (in order), or undefined. */
function firstFailure(results: readonly PromiseSettledResult<unknown>[]): unknown {
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  return failed === undefined ? undefined : failed.reason;
}

async function cleanupAll(bound: readonly Bound[], ctx: VolumeContext): Promise<CleanedVolume[]> {
  const results = await Promise.allSettled([...bound].reverse().map(async (b) => ({
    name: b.volume.name,
    kind: b.provider.kind,
    removed: await b.provider.cleanup(b.volume, ctx),
  })));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as unknown);
  if (failures.length > 0) {
    const reasons = failures.map((e) => (e as Error).message).join("; ");
    throw new Error(`Cannot clean up ${failures.length} volume(s): ${reasons}`, { cause: failures.length === 1 ? failures[0] : new AggregateError(failures) });
  }
  return results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])).reverse();
}

export async function prepareVolumes(spec: VmiSpec, ctx: VolumeContext, providers: ProviderSet = defaultProviders()): Promise<PreparedVolumes> {
  const vctx = contextFor(spec, ctx);
  const bound = bind(spec, providers);
  const checked = await Promise.allSettled(bound.map((b) => b.provider.check(b.volume, vctx)));
  const bad = firstFailure(checked);
  if (bad !== undefined) throw bad;

  const settled = await Promise.allSettled(bound.map((b) => b.provider.prepare(b.volume, vctx)));
  const failure = firstFailure(settled);
  if (failure !== undefined) {
    const done = bound.filter((_, i) => settled[i]?.status === "fulfilled");
    try {
      await cleanupAll(done, vctx);
    } catch (error) {
      vctx.log.warn("could not clean up after a failed prepare", { error: (error as Error).message });
    }
    throw failure;
  }
  const disks = settled.map((r) => (r as PromiseFulfilledResult<PreparedDisk>).value);
  const prepared: Record<string, PreparedVolume> = {};
  for (const d of disks) prepared[d.name] = toPreparedVolume(d);
  for (const d of disks) vctx.log.info("prepared volume", { volume: d.name, kind: d.kind, path: d.path, format: d.format });
  return {
    prepared,
    disks,
    cleanup: async (): Promise<void> => {
      await cleanupAll(bound, vctx);
    },
  };
}

/** Undoes prepareVolumes for `spec` in a later process (`bunvirt volumes cleanup`): needs only the state directory. */
export async function cleanupVolumes(spec: VmiSpec, ctx: VolumeContext, providers: ProviderSet = defaultProviders()): Promise<CleanedVolume[]> {
  return cleanupAll(bind(spec, providers), contextFor(spec, ctx));
}
