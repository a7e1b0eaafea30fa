import { describe, expect, test } from "bun:test";
import { Deframer, frameMessage, maxGrpcMessage } from "./grpc-frame.ts";

describe("gRPC framing", () => {
  test("a frame is flag 0, a big-endian length, the bytes", () => {
    expect(Buffer.from(frameMessage(Uint8Array.of(7, 8, 9))).toString("hex")).toBe("0000000003070809");
    expect(Buffer.from(frameMessage(new Uint8Array(0))).toString("hex")).toBe("0000000000");
  });

  test("messages split and joined across chunks come out whole", () => {
    const a = frameMessage(Uint8Array.of(1, 2, 3));
    const b = frameMessage(new Uint8Array(0));
    const c = frameMessage(new Uint8Array(300).fill(5));
    const all = Buffer.concat([a, b, c]);
    for (const cut of [1, 4, 5, 7, 8, 9, 100]) {
      const d = new Deframer();
      const got = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(got.map((m) => m.length)).toEqual([3, 0, 300]);
      expect(d.pendingBytes).toBe(0);
    }
  });

  test("an unfinished message stays pending", () => {
    const d = new Deframer();
    expect(d.push(frameMessage(Uint8Array.of(1, 2)).subarray(0, 6))).toEqual([]);
    expect(d.pendingBytes).toBe(6);
  });

  test("compressed or oversized messages are refused", () => {
    expect(() => new Deframer().push(Uint8Array.of(1, 0, 0, 0, 0))).toThrow(/compressed flag "1"/);
    const big = new Uint8Array(5);
    new DataView(big.buffer).setUint32(1, maxGrpcMessage + 1);
    expect(() => new Deframer().push(big)).toThrow(/larger than/);
  });
});
