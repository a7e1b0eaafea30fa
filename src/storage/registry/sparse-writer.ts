/**
 * Writes a file sparsely: data is gathered in a large buffer, and on each
 * flush every 4 KiB block that is all zeros is skipped (left a hole)
 * instead of written; the end sets the file's length. A disk that is
 * mostly zeros (or a layer built to expand into zeros) then takes only the
 * blocks that hold data. Refuses to grow past `maxBytes`.
 */
import { open, type FileHandle } from "node:fs/promises";

const BLOCK = 4096;
const BUFFER_BYTES = 4 * 1024 * 1024; // a multiple of BLOCK: flushes stay block-aligned
const ZEROS = Buffer.alloc(BLOCK);

export class SparseFileWriter {
  private readonly buffer: Buffer;
  private filled = 0;
  /** File offset of buffer[0]. */
  private flushedTo = 0;
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly maxBytes: number,
    private readonly tooLarge: () => Error,
    bufferBytes: number,
  ) {
    this.buffer = Buffer.allocUnsafe(bufferBytes);
  }

  /** Creates `path` (must not exist). */
  static async create(path: string, maxBytes: number, tooLarge: () => Error, bufferBytes = BUFFER_BYTES): Promise<SparseFileWriter> {
    if (bufferBytes % BLOCK !== 0 || bufferBytes <= 0) throw new Error(`Cannot use a buffer of ${bufferBytes} bytes: not a multiple of ${BLOCK}`);
    return new SparseFileWriter(await open(path, "wx", 0o644), maxBytes, tooLarge, bufferBytes);
  }

  /** Bytes written so far (logical length). */
  get length(): number {
    return this.flushedTo + this.filled;
  }

  async write(data: Uint8Array): Promise<void> {
    if (this.length + data.length > this.maxBytes) throw this.tooLarge();
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(this.buffer.length - this.filled, data.length - offset);
      this.buffer.set(data.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.buffer.length) await this.flush();
    }
  }

  /** Flushes, sets the length, syncs and closes. Returns the length. */
  async finish(): Promise<number> {
    await this.flush();
    await this.handle.truncate(this.flushedTo);
    // Durable before it can be published: a cache entry must never hold a
    // disk whose tail was lost in a crash.
    await this.handle.sync();
    await this.close();
    return this.flushedTo;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  /** Writes the buffer's non-zero runs of blocks at their offsets. */
  private async flush(): Promise<void> {
    let runStart = -1;
    for (let at = 0; at < this.filled; at += BLOCK) {
      const end = Math.min(at + BLOCK, this.filled);
      const zero = this.buffer.subarray(at, end).equals(end - at === BLOCK ? ZEROS : ZEROS.subarray(0, end - at));
      if (!zero && runStart < 0) runStart = at;
      if (zero && runStart >= 0) {
        await this.writeAt(runStart, at);
        runStart = -1;
      }
    }
    if (runStart >= 0) await this.writeAt(runStart, this.filled);
    this.flushedTo += this.filled;
    this.filled = 0;
  }

  private async writeAt(from: number, to: number): Promise<void> {
    let done = from;
    while (done < to) {
      const { bytesWritten } = await this.handle.write(this.buffer, done, to - done, this.flushedTo + done);
      done += bytesWritten;
    }
  }
}
