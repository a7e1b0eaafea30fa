/**
 * Receiving a disk image from a stream into a sparse file, with the image's
 * kind read from its first bytes, never from a name or a header the server
 * chose: gzip (unpacked on the fly), xz (refused), qcow2 (its header checked
 * before the rest is read: no backing file, no external data file, a
 * virtual size within the requested size) or raw. Everything is bounded
 * while it is read: the bytes received, the bytes unpacked (a gzip bomb),
 * the bytes written; memory holds one chunk and the writer's buffer.
 */
import { inspectDiskHeader, HEADER_BYTES } from "../disk-header.ts";
import { SparseFileWriter } from "../registry/sparse-writer.ts";
import { formatBytes } from "../registry/limits.ts";

export class ImageRefusedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ImageRefusedError";
  }
}

export interface ReceiveLimits {
  /** The requested size: a raw image may be at most this, a qcow2's virtual size too. */
  readonly sizeBytes: number;
  /** Bytes taken from the source (compressed, if it is): at most this. */
  readonly maxReceivedBytes: number;
}

export interface Received {
  readonly format: "raw" | "qcow2";
  readonly gzip: boolean;
  /** Length of the file written. */
  readonly bytes: number;
  /** Bytes taken from the source. */
  readonly received: number;
}

/** Room a fully allocated qcow2 needs beside its data (header, L1/L2 and refcount tables): generous. */
export function qcow2FileLimit(virtualBytes: number): number {
  return virtualBytes + Math.ceil(virtualBytes / 1024) + 16 * 2 ** 20;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const startsWith = (bytes: Uint8Array, magic: readonly number[]): boolean => magic.every((b, i) => bytes[i] === b);

/** A stream whose first bytes can be looked at before the rest is read. */
class Peeked {
  private readonly head: Uint8Array[] = [];
  private headBytes = 0;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** At least `n` bytes (fewer only when the stream is shorter), joined. */
  async peek(n: number): Promise<Uint8Array> {
    while (this.headBytes < n) {
      const next = await this.source.next();
      if (next.done === true) break;
      this.head.push(next.value);
      this.headBytes += next.value.length;
    }
    return Buffer.concat(this.head);
  }

  async *chunks(): AsyncGenerator<Uint8Array> {
    try {
      yield* this.head.splice(0);
      for (;;) {
        const next = await this.source.next();
        if (next.done === true) return;
        yield next.value;
      }
    } finally {
      await this.source.return?.();
    }
  }
}

/** Counts what passes and refuses more than `max`. */
async function* capped(source: AsyncIterable<Uint8Array>, max: number, onBytes: (n: number) => void, tooLarge: () => Error): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > max) throw tooLarge();
    onBytes(total);
    yield chunk;
  }
}

async function* gunzip(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  const input = new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller): Promise<void> {
      const next = await it.next();
      if (next.done === true) controller.close();
      else controller.enqueue(next.value as Uint8Array<ArrayBuffer>);
    },
    async cancel(): Promise<void> {
      await it.return?.();
    },
  }, { highWaterMark: 0 });
  const reader = input.pipeThrough(new DecompressionStream("gzip")).getReader();
  try {
    for (;;) {
      let next;
      try {
        next = await reader.read();
      } catch (error) {
        if (error instanceof ImageRefusedError) throw error;
        throw new ImageRefusedError(`the gzip stream is damaged: ${(error as Error).message}`, { cause: error });
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * Writes the image `source` sends to `path` (created, must not exist). On
 * any refusal the partial file is left for the caller to remove.
 */
export async function receiveImage(
  source: AsyncIterable<Uint8Array>,
  path: string,
  limits: ReceiveLimits,
  onReceived: (bytes: number) => void = () => undefined,
): Promise<Received> {
  let received = 0;
  const incoming = capped(source, limits.maxReceivedBytes, (n) => {
    received = n;
    onReceived(n);
  }, () => new ImageRefusedError(`the source sent more than ${formatBytes(limits.maxReceivedBytes)}, more than the requested size allows`));
  try {
    return await receiveFrom(incoming, path, limits, () => received);
  } finally {
    // A refusal before the body's end: stop reading it (the connection is closed, not left to linger).
    await incoming.return(undefined).catch(() => undefined);
  }
}

async function receiveFrom(incoming: AsyncGenerator<Uint8Array>, path: string, limits: ReceiveLimits, received: () => number): Promise<Received> {
  let stream = new Peeked(incoming[Symbol.asyncIterator]());
  let head = await stream.peek(HEADER_BYTES);
  const gzip = startsWith(head, GZIP_MAGIC);
  if (startsWith(head, XZ_MAGIC)) throw new ImageRefusedError("the image is xz-compressed; bunvirt imports raw, qcow2 and gzip-compressed raw or qcow2 images");
  if (gzip) {
    stream = new Peeked(gunzip(stream.chunks())[Symbol.asyncIterator]());
    head = await stream.peek(HEADER_BYTES);
  }
  if (head.length === 0) throw new ImageRefusedError("the image is empty");
  let header;
  try {
    header = inspectDiskHeader(head);
  } catch (error) {
    throw new ImageRefusedError(`the image starts like a qcow2 but ${(error as Error).message}`, { cause: error });
  }
  if (header.format === "qcow2") {
    if (header.backing !== undefined) throw new ImageRefusedError("the image is a qcow2 with a backing file; an imported disk must stand alone");
    if (header.externalDataFile === true) throw new ImageRefusedError("the image is a qcow2 with an external data file; an imported disk must stand alone");
    if ((header.virtualSize ?? 0) > limits.sizeBytes) {
      throw new ImageRefusedError(`the image is a qcow2 of virtual size ${formatBytes(header.virtualSize ?? 0)}, larger than the requested ${formatBytes(limits.sizeBytes)}`);
    }
  }
  const maxFile = header.format === "qcow2" ? qcow2FileLimit(limits.sizeBytes) : limits.sizeBytes;
  const what = header.format === "qcow2" ? "qcow2 file" : "raw image";
  const writer = await SparseFileWriter.create(path, maxFile, () =>
    new ImageRefusedError(`the ${gzip ? "unpacked " : ""}${what} is larger than ${formatBytes(maxFile)}${header.format === "raw" ? ", the requested size" : ""}`));
  try {
    for await (const chunk of stream.chunks()) await writer.write(chunk);
    const bytes = await writer.finish();
    return { format: header.format, gzip, bytes, received: received() };
  } finally {
    await writer.close();
  }
}
