/**
 * Layer decompression by media type, streaming: tar, gzip and zstd, all with
 * Bun's built-in DecompressionStream (Bun 1.4.4 supports "zstd" there, so
 * no zstd CLI is needed).
 */
import type { VerifyingBlob } from "./blob.ts";
import { ImageError } from "./errors.ts";

export type Compression = "none" | "gzip" | "zstd";

const LAYER_TYPES: Readonly<Record<string, Compression>> = {
  "application/vnd.oci.image.layer.v1.tar": "none",
  "application/vnd.oci.image.layer.v1.tar+gzip": "gzip",
  "application/vnd.oci.image.layer.v1.tar+zstd": "zstd",
  "application/vnd.oci.image.layer.nondistributable.v1.tar": "none",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": "zstd",
  "application/vnd.docker.image.rootfs.diff.tar": "none",
  "application/vnd.docker.image.rootfs.diff.tar.gzip": "gzip",
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "gzip",
};

export function layerCompression(mediaType: string): Compression {
  const compression = LAYER_TYPES[mediaType];
  if (compression === undefined) {
    throw new ImageError("unsupported", `layer media type "${mediaType}" is not supported (expected an OCI or Docker tar layer, plain, gzip or zstd)`);
  }
  return compression;
}

export interface LayerStream {
  /** Decompressed tar bytes. Errors of the blob (digest, network) come first. */
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Stops decompression and waits until nothing reads the blob any more. */
  close(): Promise<void>;
}

/** Decompressed view of a blob. The blob is only read by the returned stream until close(). */
export function decompressBlob(blob: VerifyingBlob, compression: Compression): LayerStream {
  if (compression === "none") return { chunks: blob.chunks(), close: async () => undefined };
  const stream = new DecompressionStream(compression);
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  let blobError: unknown;
  let blobFailed = false;
  const pump = (async (): Promise<void> => {
    try {
      for (;;) {
        let chunk: Uint8Array | null;
        try {
          chunk = await blob.read();
        } catch (error) {
          blobFailed = true;
          blobError = error;
          throw error;
        }
        if (chunk === null) break;
        await writer.write(chunk as Uint8Array<ArrayBuffer>);
      }
      await writer.close();
    } catch (error) {
      await writer.abort(error).catch(() => undefined);
    }
  })();
  const chunks = async function* (): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) return;
        yield next.value;
      }
    } catch (error) {
      await pump;
      if (blobFailed) throw blobError;
      throw new ImageError("invalid-image", `cannot ${compression === "gzip" ? "gunzip" : "decompress zstd"} layer "${blob.descriptor.digest}": ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    chunks: chunks(),
    close: async (): Promise<void> => {
      await reader.cancel().catch(() => undefined);
      await pump;
    },
  };
}
