/**
 * Blob fetch with verification while streaming: every chunk is hashed and
 * counted as it arrives; the end of the stream checks size and sha256
 * against the descriptor. Reading is pull-based (`read()`), so a consumer
 * that stops early can `drain()` the rest and still learn whether the blob
 * was intact.
 */
import { DigestMismatchError, ImageError } from "./errors.ts";
import type { Descriptor } from "./manifest.ts";
import type { RegistryClient } from "./registry-client.ts";

export type BytesListener = (bytes: number) => void;

/** The part of a stream reader this module uses. */
export interface ChunkSourceReader {
  read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
}

export class VerifyingBlob {
  private readonly hasher = new Bun.CryptoHasher("sha256");
  private received = 0;
  private state: "open" | "verified" | "failed" = "open";
  private failure: unknown;

  constructor(
    readonly descriptor: Descriptor,
    private readonly reader: ChunkSourceReader,
    private readonly onBytes: BytesListener | undefined,
  ) {}

  get bytesReceived(): number {
    return this.received;
  }

  get verified(): boolean {
    return this.state === "verified";
  }

  /** Next chunk, or null at the (verified) end. Throws DigestMismatchError. */
  async read(): Promise<Uint8Array | null> {
    if (this.state === "verified") return null;
    if (this.state === "failed") throw this.failure;
    let result: Awaited<ReturnType<ChunkSourceReader["read"]>>;
    try {
      result = await this.reader.read();
    } catch (error) {
      this.fail(error);
    }
    if (result.done) {
      this.finish();
      return null;
    }
    const chunk = result.value;
    this.received += chunk.length;
    if (this.received > this.descriptor.size) {
      this.hasher.update(chunk);
      this.fail(
        new DigestMismatchError(
          `blob "${this.descriptor.digest}"`,
          this.descriptor.digest,
          "(unknown: more bytes than declared)",
          ` (the registry sent more than the ${this.descriptor.size} bytes the manifest declares)`,
        ),
      );
    }
    this.hasher.update(chunk);
    this.onBytes?.(chunk.length);
    return chunk;
  }

  /** Reads (and verifies) everything not read yet. */
  async drain(): Promise<void> {
    while ((await this.read()) !== null) {
      // discard
    }
  }

  /** Async iteration over the chunks; the end verifies. */
  async *chunks(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = await this.read();
      if (chunk === null) return;
      yield chunk;
    }
  }

  /** Stops reading; the blob counts as failed. */
  async cancel(reason?: unknown): Promise<void> {
    if (this.state === "open") {
      this.state = "failed";
      this.failure = reason ?? new Error(`reading blob "${this.descriptor.digest}" was cancelled`);
    }
    await this.reader.cancel(reason).catch(() => undefined);
  }

  private finish(): void {
    const actual = `sha256:${this.hasher.digest("hex")}`;
    if (this.received !== this.descriptor.size || actual !== this.descriptor.digest) {
      const detail = this.received !== this.descriptor.size ? ` (received ${this.received} bytes, the manifest declares ${this.descriptor.size})` : "";
      this.fail(new DigestMismatchError(`blob "${this.descriptor.digest}"`, this.descriptor.digest, actual, detail));
    }
    this.state = "verified";
  }

  private fail(error: unknown): never {
    this.state = "failed";
    this.failure = error;
    void this.reader.cancel().catch(() => undefined);
    throw error;
  }
}

/** Starts fetching a blob; the body is read through the returned object. */
export async function openBlob(client: RegistryClient, descriptor: Descriptor, onBytes?: BytesListener): Promise<VerifyingBlob> {
  const response = await client.get(`blobs/${descriptor.digest}`, { what: `blob "${descriptor.digest}"` });
  return new VerifyingBlob(descriptor, response.body, onBytes);
}

/** Fetches a small blob (an image config) whole, verified, at most `maxBytes`. */
export async function fetchSmallBlob(
  client: RegistryClient,
  descriptor: Descriptor,
  maxBytes: number,
  onBytes?: BytesListener,
): Promise<Uint8Array> {
  if (descriptor.size > maxBytes) {
    throw new ImageError("invalid-image", `blob "${descriptor.digest}" declares ${descriptor.size} bytes, more than the ${maxBytes} allowed for it`);
  }
  const blob = await openBlob(client, descriptor, onBytes);
  const out = new Uint8Array(descriptor.size);
  let offset = 0;
  for await (const chunk of blob.chunks()) {
    out.set(chunk, offset); // read() guarantees offset + chunk.length <= size
    offset += chunk.length;
  }
  return out;
}
