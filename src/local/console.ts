/**
 * The guest's serial console: the launcher connects to the unix socket QEMU
 * listens on and copies what the guest writes to a sink (the terminal or a
 * file), and what the user types to the guest.
 */
import { appendFileSync, existsSync } from "node:fs";

export type ConsoleSink = { kind: "terminal" } | { kind: "log"; file: string } | { kind: "off" };

export interface ConsoleAttachment {
  close(): void;
}

export async function attachConsole(socket: string, sink: ConsoleSink, opts: { timeoutMs?: number; stdin?: boolean } = {}): Promise<ConsoleAttachment | null> {
  if (sink.kind === "off") return null;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  while (!existsSync(socket)) {
    if (Date.now() > deadline) throw new Error(`Cannot attach the serial console: "${socket}" did not appear`);
    await Bun.sleep(20);
  }
  const write = sink.kind === "terminal" ? (b: Uint8Array) => void process.stdout.write(b) : (b: Uint8Array) => appendFileSync(sink.file, b);
  const conn = await Bun.connect({ unix: socket, socket: { data: (_s, data) => write(data), error: () => undefined, close: () => undefined } });
  let reading = true;
  if (opts.stdin === true && sink.kind === "terminal") {
    void (async () => {
      for await (const chunk of Bun.stdin.stream()) {
        if (!reading) break;
        conn.write(chunk);
      }
    })();
  }
  return {
    close: () => {
      reading = false;
      conn.end();
    },
  };
}
