/**
 * Pull orchestration: reference -> manifest (platform from an index) ->
 * cache hit, or config + layers fetched, verified and reduced to the disk
 * file, published into the node cache. Pulls of the same disk share one
 * fetch: in process through an in-flight map, across processes through the
 * cache's lock file.
 */
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { fetchSmallBlob, openBlob } from "./blob.ts";
import { DiskCache, cacheKey, diskFileName, type CacheEntry, type CacheMetadata } from "./cache.ts";
import { layerCompression } from "./decompress.ts";
import { detectDiskFormat, type DiskFormat } from "./disk-format.ts";
import { diskScope, InvalidDiskPathError, selectDisk, type DiskScope, type LayerChange } from "./disk-selection.ts";
import { credentialsFor, InvalidDockerConfigError, type DockerConfig } from "./docker-config.ts";
import {
  DigestMismatchError,
  ImageError,
  PullError,
  RegistryHttpError,
  RegistryTimeoutError,
  RegistryUnreachableError,
  UnsafeResponseError,
  type PullErrorCode,
} from "./errors.ts";
import { extractLayer } from "./layer-extract.ts";
import { DEFAULT_MAX_DISK_BYTES, MAX_CONFIG_BYTES } from "./limits.ts";
import { fetchManifest, type Descriptor, type FetchedManifest, type Platform } from "./manifest.ts";
import { DEFAULT_PLATFORM, selectPlatform } from "./platform.ts";
import { ProgressMeter, type ProgressListener } from "./progress.ts";
import { formatReference, InvalidReferenceError, parseReference, type ImageReference } from "./reference.ts";
import { RegistryClient, type FetchLike } from "./registry-client.ts";
import { TarFormatError } from "./tar-reader.ts";

export interface PullOptions {
  /** Node cache directory (created when missing). */
  readonly cacheDir: string;
  /** Registry for references without a host (default "docker.io"). */
  readonly defaultRegistry?: string;
  /** Registries ("host" or "host:port") spoken to over plain HTTP; all others use https. */
  readonly insecureRegistries?: readonly string[];
  /** Parsed pull secret(s), see parseDockerConfigJson. */
  readonly pullSecret?: DockerConfig;
  /** The volume's `path`: the disk file in the image, instead of the single file under /disk/. */
  readonly path?: string;
  /** Platform to pick from an index (default linux/amd64). */
  readonly platform?: Platform;
  /** Called at most every ~500 ms while blobs arrive, and once at the end. */
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
  /** Extra CA certificates (PEM) for https registries and token servers. */
  readonly caCertificates?: readonly string[];
  /** Layers fetched in parallel (default 3). */
  readonly concurrency?: number;
  /** A cross-process lock not refreshed for this long is broken (default 30 s). */
  readonly lockStaleAfterMs?: number;
  /** Idle timeout of every request and body read, in ms (default 30 s). */
  readonly timeoutMs?: number;
  /** Largest uncompressed disk accepted, in bytes (default 64 GiB). */
  readonly maxDiskBytes?: number;
  /** Replaces global fetch (tests). */
  readonly fetch?: FetchLike;
}

export interface PullResult {
  /** Canonical reference: registry/repository[:tag][@digest]. */
  readonly reference: string;
  /** Image manifest digest (for an index: the chosen platform's manifest). */
  readonly digest: string;
  /** Absolute path of the disk file in the cache. */
  readonly path: string;
  readonly format: DiskFormat;
  readonly virtualSize?: number;
  /** Size of the disk file. */
  readonly bytes: number;
  /** Blob bytes (config and layers) this call received; 0 on a cache hit. */
  readonly bytesFetched: number;
  /**
   * True when this call fetched no blob: the entry was in the cache, or
   * another pull (in this process or another) fetched it meanwhile.
   */
  readonly cacheHit: boolean;
}

const DEFAULT_CONCURRENCY = 3;

interface Flight {
  readonly meter: ProgressMeter;
  readonly promise: Promise<CacheEntry>;
}

/** In-process fetches in progress, by cache root and key. */
const inFlight = new Map<string, Flight>();

function matchesInsecure(registry: string, insecure: readonly string[] | undefined): boolean {
  if (insecure === undefined) return false;
  const host = registry.startsWith("[") ? registry.slice(0, registry.indexOf("]") + 1) : registry.split(":")[0];
  return insecure.some((entry) => {
    const e = entry.trim().toLowerCase().replace(/^https?:\/\//, "").replace(/\/+$/, "");
    return e === registry || e === host;
  });
}

function toResult(ref: ImageReference, entry: CacheEntry, bytesFetched: number, cacheHit: boolean): PullResult {
  return {
    reference: formatReference(ref),
    digest: entry.digest,
    path: entry.path,
    format: entry.metadata.format,
    virtualSize: entry.metadata.virtualSize,
    bytes: entry.metadata.bytes,
    bytesFetched,
    cacheHit,
  };
}

function toPullError(reference: string, error: unknown, signal: AbortSignal | undefined): PullError {
  if (error instanceof PullError) return error.reference === "" ? new PullError(reference, error.code, error.reason) : error;
  const message = error instanceof Error ? error.message : String(error);
  let code: PullErrorCode;
  let reason = message;
  if (signal?.aborted === true) {
    code = "aborted";
    reason = `the pull was aborted${signal.reason instanceof Error ? ` (${signal.reason.message})` : ""}`;
  } else if (error instanceof InvalidReferenceError) {
    code = "invalid-reference";
    reason = error.reason;
  } else if (error instanceof InvalidDiskPathError || error instanceof InvalidDockerConfigError) {
    code = "invalid-options";
  } else if (error instanceof RegistryHttpError) {
    code = error.status === 401 || error.status === 403 ? "unauthorized" : error.status === 404 ? "not-found" : "registry";
  } else if (error instanceof RegistryTimeoutError) {
    code = "timeout";
  } else if (error instanceof RegistryUnreachableError) {
    code = "network";
  } else if (error instanceof UnsafeResponseError) {
    code = "registry";
  } else if (error instanceof DigestMismatchError) {
    code = "digest-mismatch";
  } else if (error instanceof ImageError) {
    code = error.code;
  } else if (error instanceof TarFormatError) {
    code = "invalid-image";
  } else if (typeof (error as NodeJS.ErrnoException | undefined)?.code === "string") {
    code = "io";
  } else {
    code = "registry";
  }
  return new PullError(reference, code, reason, { cause: error });
}

/** Runs `task` over `items` with at most `limit` at a time; on the first failure aborts the rest and rethrows it. */
async function forEachLimited<T, R>(
  items: readonly T[],
  limit: number,
  onFailure: () => void,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let firstError: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (firstError === undefined && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        if (firstError === undefined) {
          firstError = { error };
          onFailure();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (firstError !== undefined) throw firstError.error;
  return results;
}

interface FetchJob {
  readonly ref: ImageReference;
  readonly client: RegistryClient;
  readonly cache: DiskCache;
  readonly key: string;
  readonly scope: DiskScope;
  readonly manifest: FetchedManifest & { document: { kind: "image" } };
  readonly indexDigest: string | undefined;
  readonly meter: ProgressMeter;
  readonly options: PullOptions;
  readonly abort: AbortController;
}

/** Fetches config and layers into a work directory and publishes the entry. */
async function fetchIntoCache(job: FetchJob): Promise<CacheEntry> {
  const { cache, key, client, manifest, meter, options } = job;
  const { config, layers } = manifest.document;
  const lock = await cache.lock(key, {
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.lockStaleAfterMs !== undefined ? { staleAfterMs: options.lockStaleAfterMs } : {}),
  });
  try {
    const done = await cache.lookup(key); // another process may have fetched it while we waited
    if (done !== null) return done;
    await cache.clearLeftovers(key);
    const workDir = await cache.createWorkDir(key);
    try {
      const compressions = layers.map((l) => layerCompression(l.mediaType)); // refuse unknown types before fetching
      const onBytes = (n: number): void => meter.add(n);
      type Work = { kind: "config"; d: Descriptor } | { kind: "layer"; d: Descriptor; index: number };
      const work: Work[] = [{ kind: "config", d: config }, ...layers.map((d, index) => ({ kind: "layer" as const, d, index }))];
      // Largest layers first, so a big layer does not start last.
      const order = [...work].sort((a, b) => b.d.size - a.d.size);
      const changes: LayerChange[][] = new Array<LayerChange[]>(layers.length);
      await forEachLimited(order, options.concurrency ?? DEFAULT_CONCURRENCY, () => job.abort.abort(new Error("another blob failed")), async (item) => {
        if (item.kind === "config") {
          const bytes = await fetchSmallBlob(client, item.d, MAX_CONFIG_BYTES, onBytes);
          try {
            const doc: unknown = JSON.parse(new TextDecoder().decode(bytes));
            if (typeof doc !== "object" || doc === null) throw new Error("not an object");
          } catch (error) {
            throw new ImageError("invalid-image", `the image config "${item.d.digest}" is not a JSON object`, { cause: error });
          }
          return;
        }
        const blob = await openBlob(client, item.d, onBytes);
        changes[item.index] = await extractLayer({
          blob,
          compression: compressions[item.index] ?? "none",
          scope: job.scope,
          workDir,
          layerIndex: item.index,
          maxDiskBytes: options.maxDiskBytes ?? DEFAULT_MAX_DISK_BYTES,
        });
      });
      meter.finish();

      const chosen = selectDisk(changes, job.scope);
      const info = await detectDiskFormat(chosen.tempFile);
      await rename(chosen.tempFile, join(workDir, diskFileName(info.format)));
      const leftovers = new Set(changes.flat().flatMap((c) => (c.op === "entry" && c.tempFile !== undefined ? [c.tempFile] : [])));
      leftovers.delete(chosen.tempFile);
      await Promise.all([...leftovers].map((f) => rm(f, { force: true })));
      const metadata: CacheMetadata = {
        version: 1,
        reference: job.ref.original,
        registry: job.ref.registry,
        repository: job.ref.repository,
        digest: manifest.digest,
        ...(job.indexDigest !== undefined ? { indexDigest: job.indexDigest } : {}),
        format: info.format,
        virtualSize: info.virtualSize,
        bytes: info.bytes,
        pathInImage: `/${chosen.path}`,
        layers: layers.map((l) => l.digest),
        pulledAt: new Date().toISOString(),
      };
      return await cache.commit(key, workDir, metadata);
    } catch (error) {
      await cache.discard(workDir);
      throw error;
    }
  } finally {
    await lock.release();
  }
}

function checkLimits(options: PullOptions): void {
  const { timeoutMs, maxDiskBytes } = options;
  // setTimeout cannot wait longer than 2^31 - 1 ms.
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0 && timeoutMs < 2 ** 31)) {
    throw new PullError("", "invalid-options", `the registry timeout must be a positive number of milliseconds below 2^31, not ${timeoutMs}`);
  }
  if (maxDiskBytes !== undefined && !(Number.isSafeInteger(maxDiskBytes) && maxDiskBytes > 0)) {
    throw new PullError("", "invalid-options", `the maximum disk size must be a positive whole number of bytes, not ${maxDiskBytes}`);
  }
}

async function pullInner(reference: string, options: PullOptions): Promise<PullResult> {
  checkLimits(options);
  const ref = parseReference(reference, options.defaultRegistry !== undefined ? { defaultRegistry: options.defaultRegistry } : {});
  const scope = diskScope(options.path);
  const diskPath = scope.kind === "file" ? scope.path : undefined;
  const cache = new DiskCache(options.cacheDir);
  // What killed pulls left behind goes now, whatever this pull is for.
  await cache.sweepAbandoned(options.lockStaleAfterMs !== undefined ? { staleAfterMs: options.lockStaleAfterMs } : {}).catch(() => undefined);

  // Pinned to a digest already cached: no network at all.
  if (ref.digest !== undefined) {
    const hit = await cache.lookup(cacheKey(ref.digest, diskPath));
    if (hit !== null) return toResult(ref, hit, 0, true);
  }

  const abort = new AbortController();
  const signal = options.signal !== undefined ? AbortSignal.any([options.signal, abort.signal]) : abort.signal;
  const credentials = credentialsFor(options.pullSecret, ref.registry, ref.repository);
  const client = new RegistryClient({
    registry: ref.registry,
    repository: ref.repository,
    insecure: matchesInsecure(ref.registry, options.insecureRegistries),
    signal,
    ...(credentials !== undefined ? { credentials } : {}),
    ...(options.caCertificates !== undefined ? { caCertificates: options.caCertificates } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });

  let manifest = await fetchManifest(client, ref.digest ?? ref.tag ?? "latest", ref.digest);
  let indexDigest: string | undefined;
  if (manifest.document.kind === "index") {
    const chosen = selectPlatform(manifest.document.manifests, options.platform ?? DEFAULT_PLATFORM);
    indexDigest = manifest.digest;
    const hit = await cache.lookup(cacheKey(chosen.digest, diskPath));
    if (hit !== null) return toResult(ref, hit, 0, true);
    manifest = await fetchManifest(client, chosen.digest, chosen.digest);
    if (manifest.document.kind !== "image") {
      throw new ImageError("unsupported", `the index entry "${chosen.digest}" is itself an index (nested indexes are not supported)`);
    }
  }
  const image = manifest as FetchedManifest & { document: { kind: "image" } };
  const key = cacheKey(image.digest, diskPath);
  const hit = await cache.lookup(key);
  if (hit !== null) return toResult(ref, hit, 0, true);

  const flightKey = `${cache.root}\0${key}`;
  const running = inFlight.get(flightKey);
  if (running !== undefined) {
    running.meter.subscribe(options.onProgress);
    const entry = await running.promise;
    return toResult(ref, entry, 0, true);
  }
  const { config, layers } = image.document;
  const meter = new ProgressMeter(config.size + layers.reduce((sum, l) => sum + l.size, 0));
  meter.subscribe(options.onProgress);
  const promise = fetchIntoCache({ ref, client, cache, key, scope, manifest: image, indexDigest, meter, options, abort });
  inFlight.set(flightKey, { meter, promise });
  try {
    const entry = await promise;
    return toResult(ref, entry, meter.received, meter.received === 0);
  } finally {
    inFlight.delete(flightKey);
  }
}

/**
 * Pulls the disk of a container-disk image into the node cache and returns
 * where it is. Errors are PullError: `Cannot pull "REF": reason`, with the
 * underlying error as cause.
 */
export async function pullDisk(reference: string, options: PullOptions): Promise<PullResult> {
  try {
    return await pullInner(reference, options);
  } catch (error) {
    throw toPullError(reference.trim(), error, options.signal);
  }
}
