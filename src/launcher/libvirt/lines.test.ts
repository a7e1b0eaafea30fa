import { describe, expect, test } from "bun:test";
import { forEachLine } from "./lines.ts";

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

describe("forEachLine", () => {
  test("splits across chunks and keeps a last unterminated line", async () => {
    const lines: string[] = [];
    await forEachLine(streamOf(["a\nb", "c\r\n", "d"]), (l) => lines.push(l));
    expect(lines).toEqual(["a", "bc", "d"]);
  });
});
