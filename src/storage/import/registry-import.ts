/**
 * The registry source: the image is pulled through the node's disk cache
 * (the containerDisk puller: verified blobs, the disk under /disk/), then
 * its disk converted to raw into the claim. A second import of the same
 * image fetches nothing.
 */
import { parseRegistrySourceUrl } from "../../api/data-volume/source-url.ts";
import type { DataVolumeSource } from "../../api/v1/data-volume.ts";
import { StorageError } from "../provider.ts";
import { formatReference, normalizeRegistryKey, pullDisk, PullError, type DockerConfig, type PullOptions } from "../registry/index.ts";
import { readSecretKey } from "../secrets.ts";
import { httpSecretKeys } from "./http-import.ts";
import type { ImportJob } from "./import-job.ts";
import { rawFrom } from "./raw-from.ts";
import { pullOptionsOf } from "../registry-pull-options.ts";

type Registry = NonNullable<DataVolumeSource["registry"]>;

async function credentials(job: ImportJob, secret: string | undefined, registry: string): Promise<DockerConfig | undefined> {
  if (secret === undefined || secret === "") return job.ctx.registry?.pullSecret;
  const text = async (key: string): Promise<string> =>
    new TextDecoder().decode((await readSecretKey(job.name, "registry source", secret, [key], job.ctx)).bytes).trim();
  return { auths: new Map([[normalizeRegistryKey(registry), { username: await text(httpSecretKeys.username), password: await text(httpSecretKeys.password) }]]) };
}

export async function importRegistry(job: ImportJob, source: Registry): Promise<void> {
  const settings = job.ctx.registry;
  const parsed = parseRegistrySourceUrl(source.url, settings?.defaultRegistry);
  if (!parsed.ok) throw new StorageError(job.name, "invalid", `source.registry.url ${parsed.rule}`);
  if (source.certConfigMap !== undefined && source.certConfigMap !== "") {
    throw new StorageError(job.name, "invalid", "source.registry.certConfigMap is not supported yet; the node's registry settings (CA certificates, insecure registries) apply");
  }
  if (settings === undefined || settings.cacheDir === "") throw new StorageError(job.name, "invalid", "no node cache directory is configured for registry imports");
  const image = formatReference(parsed.reference);
  const pullSecret = await credentials(job, source.secretRef, parsed.reference.registry);
  const options: PullOptions = {
    ...pullOptionsOf(settings),
    maxDiskBytes: Math.min(settings.maxDiskBytes ?? Number.MAX_SAFE_INTEGER, job.sizeBytes + 64 * 2 ** 20),
    ...(pullSecret !== undefined ? { pullSecret } : {}),
    signal: job.signal,
    onProgress: (p) => job.progress(p.totalBytes > 0 ? Math.min(100, (p.bytes / p.totalBytes) * 100) : null, p.bytes, "transfer"),
  };
  let pulled;
  try {
    pulled = await (job.ctx.pull ?? pullDisk)(image, options);
  } catch (cause) {
    const reason = cause instanceof PullError ? `cannot pull "${cause.reference}": ${cause.reason}` : `cannot pull "${image}": ${(cause as Error).message}`;
    throw new StorageError(job.name, "pull", reason, { cause });
  }
  job.ctx.log.info("pulled the image of a registry import", { dataVolume: job.name, image: pulled.reference, digest: pulled.digest, cacheHit: pulled.cacheHit });
  await rawFrom(job, pulled.path, false);
}
