/**
 * One raw HTTP request over TLS and everything that comes back: how the tests
 * show that a listener which must refuse a peer writes it no byte at all.
 */
import tls from "node:tls";

export interface RawReply {
  /** What the server sent, as text ("" when nothing). */
  text: string;
  bytes: number;
  /** Whether the TLS handshake completed. */
  handshake: boolean;
  /** How it ended: "closed", "error CODE" or "no answer after N ms". */
  ended: string;
}

/** Connects with `opts`, writes `request` once the handshake is done, and collects the reply until the server closes (or `timeoutMs`). */
export function rawTlsRequest(opts: tls.ConnectionOptions, request: string, timeoutMs = 5000): Promise<RawReply> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let handshake = false;
    let settled = false;
    const s = tls.connect(opts);
    const done = (ended: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      const all = Buffer.concat(chunks);
      resolve({ text: all.toString(), bytes: all.length, handshake, ended });
    };
    const timer = setTimeout(() => done(`no answer after ${timeoutMs} ms`), timeoutMs);
    s.on("secureConnect", () => {
      handshake = true;
      s.write(request);
    });
    s.on("data", (d: Buffer) => chunks.push(d));
    s.on("error", (e: Error & { code?: string }) => done(`error ${e.code ?? e.message}`));
    s.on("close", () => done("closed"));
  });
}
