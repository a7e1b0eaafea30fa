/**
 * The console's own process streams: stdin (raw mode while connected when it
 * is a terminal, restored at the end, on SIGINT/SIGTERM/SIGHUP and at exit),
 * stdout for the guest's bytes, stderr for our lines.
 */
import type { ConsoleIo } from "./console.ts";

export function processConsoleIo(): { consoleIo: ConsoleIo; dispose(): void } {
  const stdin = process.stdin;
  const isTty = stdin.isTTY === true;
  let raw = false;
  const setRaw = (on: boolean): void => {
    if (raw === on) return;
    raw = on;
    stdin.setRawMode(on);
  };
  const restore = (): void => {
    if (raw) setRaw(false);
  };
  const stop = new AbortController();
  const onSignal = (): void => {
    restore();
    stop.abort();
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const s of signals) process.on(s, onSignal);
  process.on("exit", restore);
  const consoleIo: ConsoleIo = {
    stdin: stdin as AsyncIterable<Uint8Array>,
    stdout: (bytes) => process.stdout.write(bytes),
    stderr: (text) => process.stderr.write(text),
    tty: isTty ? { setRaw } : undefined,
    stop: stop.signal,
  };
  return {
    consoleIo,
    dispose: () => {
      restore();
      for (const s of signals) process.off(s, onSignal);
    },
  };
}
