/**
 * A small gRPC server over HTTP/2 cleartext (prior knowledge) on a unix
 * socket, enough for the kubelet's device-plugin client: unary methods and
 * server streams, status in the trailers. Framing is grpc-frame.ts.
 */
import http2 from "node:http2";
import { Deframer, frameMessage, grpcStatus } from "./grpc-frame.ts";

export type UnaryMethod = (request: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** A server stream: `send` writes one message; the stream stays open until the client leaves or the server stops. */
export type StreamMethod = (request: Uint8Array, send: (message: Uint8Array) => void, closed: AbortSignal) => void;

export interface GrpcMethods {
  unary: Readonly<Record<string, UnaryMethod>>;
  streams: Readonly<Record<string, StreamMethod>>;
}

export interface GrpcServer {
  /** Ends the open streams (status OK), drops the connections, stops listening. */
  close(): Promise<void>;
}

/** Thrown by a method to answer with this gRPC status. */
export class GrpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

function trailersFor(code: number, message: string): http2.OutgoingHttpHeaders {
  return message === "" ? { "grpc-status": String(code) } : { "grpc-status": String(code), "grpc-message": encodeURIComponent(message) };
}

export async function serveGrpc(socketPath: string, methods: GrpcMethods): Promise<GrpcServer> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  const openStreams = new Set<() => void>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => undefined);
  });
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const path = String(headers[":path"] ?? "");
    const unary = methods.unary[path];
    const streaming = methods.streams[path];
    stream.on("error", () => undefined);
    const finish = (code: number, message: string, body?: Uint8Array): void => {
      if (stream.closed || stream.destroyed) return;
      if (!stream.headersSent) {
        if (body === undefined) {
          stream.respond({ ":status": 200, "content-type": "application/grpc", ...trailersFor(code, message) }, { endStream: true });
          return;
        }
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      }
      stream.once("wantTrailers", () => stream.sendTrailers(trailersFor(code, message)));
      stream.end(body === undefined ? undefined : frameMessage(body));
    };
    if (unary === undefined && streaming === undefined) {
      stream.resume();
      finish(grpcStatus.unimplemented, `unknown method "${path}"`);
      return;
    }
    const deframer = new Deframer();
    const requests: Uint8Array[] = [];
    stream.on("data", (chunk: Uint8Array) => {
      try {
        requests.push(...deframer.push(chunk));
      } catch (e) {
        finish(grpcStatus.internal, (e as Error).message);
      }
    });
    stream.on("end", () => {
      const request = requests[0];
      if (request === undefined) {
        finish(grpcStatus.invalidArgument, "no request message");
        return;
      }
      if (unary !== undefined) {
        void (async () => {
          try {
            finish(grpcStatus.ok, "", await unary(request));
          } catch (e) {
            finish(e instanceof GrpcError ? e.code : grpcStatus.internal, (e as Error).message);
          }
        })();
        return;
      }
      const aborted = new AbortController();
      const end = (): void => {
        openStreams.delete(end);
        aborted.abort();
        if (stream.closed || stream.destroyed) return;
        if (!stream.headersSent) stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.once("wantTrailers", () => stream.sendTrailers(trailersFor(grpcStatus.ok, "")));
        stream.end();
      };
      openStreams.add(end);
      stream.on("close", () => {
        openStreams.delete(end);
        aborted.abort();
      });
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      streaming!(request, (message) => {
        if (!stream.closed && !stream.destroyed) stream.write(frameMessage(message));
      }, aborted.signal);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    async close(): Promise<void> {
      for (const end of [...openStreams]) end();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      // A client that does not hang up promptly is cut off.
      const cut = setTimeout(() => {
        for (const session of sessions) session.destroy();
      }, 1000);
      await closed;
      clearTimeout(cut);
    },
  };
}
