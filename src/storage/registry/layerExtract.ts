/**
 * Layer extraction: streams one layer blob through decompression and the
 * tar reader, keeps only what matters for the disk (candidate files are
 * written to temp files in the work directory, everything else related to
 * the disk location is recorded by name, the rest is skipped), and verifies
 * the blob's digest before returning.
 */
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import type { VerifyingBlob } from "./blob.ts";
import { decompressBlob, type Compression } from "./decompress.ts";
import { isCandidate, isRelated, parentOf, type DiskScope, type LayerChange } from "./diskSelection.ts";
import { readTar, type TarEntry } from "./tarReader.ts";

const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_MARKER = ".wh..wh..opq";
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

export interface ExtractLayerOptions {
  readonly blob: VerifyingBlob;
  readonly compression: Compression;
  readonly scope: DiskScope;
  /** Directory for temp files (inside the cache, so a rename publishes them). */
  readonly workDir: string;
  /** Used in temp file names. */
  readonly layerIndex: number;
}

/** Writes an entry's body to `path`, coalescing small views into large writes. */
async function writeBody(entry: TarEntry, path: string): Promise<void> {
  const handle = await open(path, "wx", 0o644);
  try {
    const buffer = new Uint8Array(Math.min(WRITE_BUFFER_BYTES, Math.max(entry.size, 1)));
    let filled = 0;
    for await (const view of entry.body()) {
      let offset = 0;
      while (offset < view.length) {
        if (filled === 0 && view.length - offset >= buffer.length) {
          // Large view: write it directly (it belongs to this read only).
          const { bytesWritten } = await handle.write(view, offset, view.length - offset);
          offset += bytesWritten;
          continue;
        }
        const take = Math.min(buffer.length - filled, view.length - offset);
        buffer.set(view.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === buffer.length) {
          await writeAll(handle, buffer, filled);
          filled = 0;
        }
      }
    }
    if (filled > 0) await writeAll(handle, buffer, filled);
    // Durable before it can be published: a cache entry must never hold a
    // disk whose tail was lost in a crash.
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: Awaited<ReturnType<typeof open>>, buffer: Uint8Array, length: number): Promise<void> {
  let written = 0;
  while (written < length) {
    const { bytesWritten } = await handle.write(buffer, written, length - written);
    written += bytesWritten;
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
    for await (const entry of readTar(stream.chunks)) {
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
        await writeBody(entry, tempFile);
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
