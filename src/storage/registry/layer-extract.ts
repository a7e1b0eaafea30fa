/**
 * Layer extraction: streams one layer blob through decompression and the
 * tar reader, keeps only what matters for the disk (candidate files are
 * written to temp files in the work directory, everything else related to
 * the disk location is recorded by name, the rest is skipped), and verifies
 * the blob's digest before returning.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { VerifyingBlob } from "./blob.ts";
import { decompressBlob, type Compression } from "./decompress.ts";
import { isCandidate, isRelated, parentOf, type DiskScope, type LayerChange } from "./disk-selection.ts";
import { ImageError } from "./errors.ts";
import { formatBytes, LAYER_SLACK_BYTES } from "./limits.ts";
import { SparseFileWriter } from "./sparse-writer.ts";
import { readTar, type TarEntry } from "./tar-reader.ts";

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_MARKER = ".wh..wh..opq";

export interface ExtractLayerOptions {
  readonly blob: VerifyingBlob;
  readonly compression: Compression;
  readonly scope: DiskScope;
  /** Directory for temp files (inside the cache, so a rename publishes them). */
  readonly workDir: string;
  /** Used in temp file names. */
  readonly layerIndex: number;
  /** Largest file written for a disk candidate. */
  readonly maxDiskBytes: number;
}

/** Writes an entry's body to `path` sparsely (zero blocks become holes), at most `maxBytes`. */
async function writeBody(entry: TarEntry, path: string, maxBytes: number): Promise<void> {
  const tooLarge = (): ImageError => diskTooLarge(entry.path, maxBytes);
  if (entry.size > maxBytes) throw tooLarge();
  const writer = await SparseFileWriter.create(path, maxBytes, tooLarge);
  try {
    for await (const view of entry.body()) await writer.write(view);
    await writer.finish();
  } finally {
    await writer.close();
  }
}

function diskTooLarge(path: string, maxBytes: number): ImageError {
  return new ImageError(
    "invalid-image",
    `the file "/${path}" of the image is larger than ${formatBytes(maxBytes)} uncompressed, the largest disk accepted (the limit is set with --max-disk-size)`,
  );
}

/** The decompressed stream, refused once it passes `max` bytes (a decompression bomb in files that are skipped). */
async function* capped(chunks: AsyncIterable<Uint8Array>, max: number, digest: string): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total > max) {
      throw new ImageError(
        "invalid-image",
        `layer "${digest}" expands to more than ${formatBytes(max)} uncompressed, twice the largest disk accepted and more (the limit is set with --max-disk-size)`,
      );
    }
    yield chunk;
  }
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Extracts what matters of one layer. On any failure the temp files of this
 * layer are removed; a blob that does not match its digest is reported as
 * such even when decompression or tar parsing failed first.
 */
export async function extractLayer(options: ExtractLayerOptions): Promise<LayerChange[]> {
  const { blob, scope } = options;
  const changes: LayerChange[] = [];
  const tempFiles: string[] = [];
  const stream = decompressBlob(blob, options.compression);
  try {
    const maxLayerBytes = 2 * options.maxDiskBytes + LAYER_SLACK_BYTES;
    for await (const entry of readTar(capped(stream.chunks, maxLayerBytes, blob.descriptor.digest))) {
      const name = baseName(entry.path);
      const dir = parentOf(entry.path);
      if (name === OPAQUE_MARKER) {
        if (isRelated(dir, scope)) changes.push({ op: "opaque", dir });
        continue;
      }
      if (name.startsWith(WHITEOUT_PREFIX)) {
        const target = dir === "" ? name.slice(WHITEOUT_PREFIX.length) : `${dir}/${name.slice(WHITEOUT_PREFIX.length)}`;
        if (isRelated(target, scope)) changes.push({ op: "whiteout", path: target });
        continue;
      }
      if (!isRelated(entry.path, scope)) continue;
      const base = {
        op: "entry" as const,
        path: entry.path,
        type: entry.type,
        size: entry.size,
        linkPath: entry.type === "hardlink" ? entry.linkPath.replace(/^\.?\/+/, "").replace(/\/+$/, "") : entry.linkPath,
        sparse: entry.sparse,
      };
      if (entry.type === "file" && isCandidate(entry.path, scope)) {
        const tempFile = join(options.workDir, `layer${options.layerIndex}-${tempFiles.length}.part`);
        tempFiles.push(tempFile);
        await writeBody(entry, tempFile, options.maxDiskBytes);
        changes.push({ ...base, tempFile });
      } else {
        changes.push(base);
      }
    }
    await stream.close();
    await blob.drain(); // normally a no-op: the tar reader consumed everything
    return changes;
  } catch (error) {
    await stream.close();
    await Promise.all(tempFiles.map((f) => rm(f, { force: true })));
    // A corrupted blob usually breaks decompression before its end; read the
    // rest so the digest, the real cause, is what gets reported.
    await blob.drain();
    throw error;
  }
}
