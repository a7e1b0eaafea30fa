/** The http source: download (bounded), then to raw. */
import { parseHttpSourceUrl } from "../../api/data-volume/source-url.ts";
import type { DataVolumeSource } from "../../api/v1/data-volume.ts";
import { StorageError } from "../provider.ts";
import { readSecretKey } from "../secrets.ts";
import { HttpSourceError, openHttpSource } from "./http-source.ts";
import { DEFAULT_STALL_MS, type ImportJob } from "./import-job.ts";
import { ImageRefusedError, qcow2FileLimit, receiveImage } from "./image-stream.ts";
import { rawFrom } from "./raw-from.ts";
import type { ChunkSourceReader } from "../registry/blob.ts";

type Http = NonNullable<DataVolumeSource["http"]>;

/** CDI's keys for the basic-auth Secret of an http source. */
export const httpSecretKeys = { username: "accessKeyId", password: "secretKey" } as const;

async function* chunksOf(reader: ChunkSourceReader): AsyncGenerator<Uint8Array> {
  let finished = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!finished) await reader.cancel();
  }
}

async function basicAuth(job: ImportJob, secret: string | undefined): Promise<{ username: string; password: string } | undefined> {
  if (secret === undefined || secret === "") return undefined;
  const text = async (key: string): Promise<string> =>
    new TextDecoder().decode((await readSecretKey(job.name, "http source", secret, [key], job.ctx)).bytes).trim();
  return { username: await text(httpSecretKeys.username), password: await text(httpSecretKeys.password) };
}

export async function importHttp(job: ImportJob, http: Http): Promise<void> {
  const parsed = parseHttpSourceUrl(http.url);
  if (!parsed.ok) throw new StorageError(job.name, "invalid", `source.http.url ${parsed.rule}`);
  if (http.certConfigMap !== undefined && http.certConfigMap !== "") {
    throw new StorageError(job.name, "invalid", "source.http.certConfigMap is not supported yet; serve the image over http or from a server whose CA the node trusts");
  }
  const auth = await basicAuth(job, http.secretRef);
  try {
    const source = await openHttpSource(parsed.url, {
      stallMs: job.ctx.limits?.stallMs ?? DEFAULT_STALL_MS,
      signal: job.signal,
      ...(auth !== undefined ? { basicAuth: auth } : {}),
    });
    const maxReceived = qcow2FileLimit(job.sizeBytes);
    if (source.length !== undefined && source.length > maxReceived) {
      await source.body.cancel();
      throw new ImageRefusedError(`the server announces ${source.length} bytes, more than the requested size allows`);
    }
    const total = source.length;
    job.progress(total === undefined ? null : 0, 0, "transfer");
    await receiveImage(chunksOf(source.body), job.scratch, { sizeBytes: job.sizeBytes, maxReceivedBytes: maxReceived }, (bytes) =>
      job.progress(total === undefined || total === 0 ? null : Math.min(100, (bytes / total) * 100), bytes, "transfer"));
  } catch (cause) {
    if (cause instanceof StorageError) throw cause;
    if (job.signal.aborted) throw new StorageError(job.name, "io", `the import from ${parsed.url.origin}${parsed.url.pathname} was stopped: ${abortReason(job.signal)}`, { cause });
    if (cause instanceof HttpSourceError || cause instanceof ImageRefusedError) {
      throw new StorageError(job.name, cause instanceof ImageRefusedError ? "invalid" : "io", `cannot import ${parsed.url.origin}${parsed.url.pathname}: ${cause.message}`, { cause });
    }
    throw new StorageError(job.name, "io", `cannot import ${parsed.url.origin}${parsed.url.pathname}: ${(cause as Error).message}`, { cause });
  }
  await rawFrom(job, job.scratch, true);
}

export function abortReason(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : "aborted";
}
