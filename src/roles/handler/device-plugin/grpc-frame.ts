/**
 * gRPC's message framing over HTTP/2: each message is a 1-byte compressed
 * flag (0: we never compress), a 4-byte big-endian length, then the bytes.
 * A Deframer takes DATA chunks as they come and hands back whole messages.
 * Pure.
 */

/** The largest message either side accepts (gRPC's default receive limit). */
export const maxGrpcMessage = 4 * 1024 * 1024;

export function frameMessage(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

export class Deframer {
  #pending = new Uint8Array(0);

  /** Adds a chunk; returns the messages it completes. */
  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.#pending.length + chunk.length);
    joined.set(this.#pending);
    joined.set(chunk, this.#pending.length);
    const messages: Uint8Array[] = [];
    let at = 0;
    while (joined.length - at >= 5) {
      const flag = joined[at]!;
      if (flag !== 0) throw new Error(`Cannot read a gRPC message: compressed flag "${flag}", no compression was agreed`);
      const length = new DataView(joined.buffer, joined.byteOffset + at + 1, 4).getUint32(0);
      if (length > maxGrpcMessage) throw new Error(`Cannot read a gRPC message of ${length} bytes: larger than ${maxGrpcMessage}`);
      if (joined.length - at - 5 < length) break;
      messages.push(joined.slice(at + 5, at + 5 + length));
      at += 5 + length;
    }
    this.#pending = joined.slice(at);
    return messages;
  }

  /** Bytes of an unfinished message (a stream that ends with some is cut). */
  get pendingBytes(): number {
    return this.#pending.length;
  }
}

/** gRPC status codes used here. */
export const grpcStatus = { ok: 0, invalidArgument: 3, notFound: 5, unimplemented: 12, internal: 13, unavailable: 14 } as const;
