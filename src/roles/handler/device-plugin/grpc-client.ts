/**
 * One unary gRPC call over HTTP/2 cleartext on a unix socket: how the
 * device plugin calls the kubelet's Registration.Register.
 */
import http2 from "node:http2";
import { connect } from "node:net";
import { Deframer, frameMessage, grpcStatus } from "./grpc-frame.ts";

export async function grpcUnaryCall(socketPath: string, path: string, request: Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
  const client = http2.connect("http://localhost", { createConnection: () => connect(socketPath) });
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Cannot call "${path}" on "${socketPath}": no answer in ${timeoutMs} ms`)), timeoutMs);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        reject(new Error(`Cannot call "${path}" on "${socketPath}": ${e.message}`, { cause: e }));
      };
      client.once("error", fail);
      const req = client.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
      req.on("error", fail);
      const deframer = new Deframer();
      const messages: Uint8Array[] = [];
      let status: string | undefined;
      let statusMessage = "";
      const readStatus = (h: http2.IncomingHttpHeaders): void => {
        if (h["grpc-status"] !== undefined) {
          status = String(h["grpc-status"]);
          statusMessage = decodeURIComponent(String(h["grpc-message"] ?? ""));
        }
      };
      req.on("response", readStatus);
      req.on("trailers", readStatus);
      req.on("data", (chunk: Uint8Array) => {
        try {
          messages.push(...deframer.push(chunk));
        } catch (e) {
          fail(e as Error);
        }
      });
      req.on("end", () => {
        clearTimeout(timer);
        if (status === undefined) reject(new Error(`Cannot call "${path}" on "${socketPath}": the answer has no grpc-status`));
        else if (Number(status) !== grpcStatus.ok) reject(new Error(`Cannot call "${path}" on "${socketPath}": gRPC status ${status} "${statusMessage}"`));
        else if (messages[0] === undefined) reject(new Error(`Cannot call "${path}" on "${socketPath}": the answer has no message`));
        else resolve(messages[0]);
      });
      req.end(frameMessage(request));
    });
  } finally {
    client.close();
  }
}
