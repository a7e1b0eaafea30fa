/**
 * An interactive command driven through pipes, as a user at a terminal would
 * drive a console client (`bunvirt console`, `virtctl console`): bytes
 * written to its stdin, its stdout and stderr collected as they come, waits
 * for a text bounded in time. stop() ends it (SIGTERM, then SIGKILL after 5 s).
 */

export interface Session {
  /** Everything the command wrote to stdout so far (decoded as latin1: raw bytes stay one char each). */
  readonly out: string;
  readonly err: string;
  /** Exit code once it ended, else null. */
  readonly code: number | null;
  readonly exited: Promise<number>;
  write(bytes: string | Uint8Array): void;
  /** Resolves once `text` is in stdout (or stderr with `stream: "err"`); throws after `seconds`, naming what was seen. */
  waitFor(text: string, seconds: number, stream?: "out" | "err"): Promise<void>;
  /** Resolves with the exit code, or null when it still runs after `seconds`. */
  waitExit(seconds: number): Promise<number | null>;
  stop(): Promise<void>;
}

export function startSession(argv: string[], env: Record<string, string | undefined> = process.env): Session {
  const p = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "pipe", env });
  const buf = { out: "", err: "" };
  let code: number | null = null;
  const pump = async (stream: ReadableStream<Uint8Array>, key: "out" | "err"): Promise<void> => {
    const decoder = new TextDecoder("latin1");
    for await (const chunk of stream) buf[key] += decoder.decode(chunk, { stream: true });
  };
  const pumps = Promise.all([pump(p.stdout, "out"), pump(p.stderr, "err")]).catch(() => undefined);
  const exited = p.exited.then(async (c) => {
    await Promise.race([pumps, Bun.sleep(1000)]);
    code = c;
    return c;
  });
  const waitExit = (seconds: number): Promise<number | null> => Promise.race([exited, Bun.sleep(seconds * 1000).then(() => null)]);
  return {
    get out() {
      return buf.out;
    },
    get err() {
      return buf.err;
    },
    get code() {
      return code;
    },
    exited,
    write: (bytes) => {
      if (code !== null) return;
      p.stdin.write(bytes);
      p.stdin.flush();
    },
    waitFor: async (text, seconds, stream = "out") => {
      const deadline = Date.now() + seconds * 1000;
      while (!buf[stream].includes(text)) {
        if (Date.now() > deadline || code !== null) {
          const why = code !== null ? `it exited ${code}` : `not after ${seconds} s`;
          throw new Error(`Cannot see ${JSON.stringify(text)} from "${argv.join(" ")}": ${why}\nstdout: ${JSON.stringify(buf.out.slice(-2000))}\nstderr: ${buf.err.slice(-2000)}`);
        }
        await Bun.sleep(100);
      }
    },
    waitExit,
    stop: async () => {
      if (code !== null) return;
      p.kill("SIGTERM");
      if ((await waitExit(5)) === null) p.kill("SIGKILL");
      await exited;
    },
  };
}

/** Runs a command to its end, bounded: SIGKILL after `seconds` (then code is null). */
export async function runBounded(argv: string[], seconds: number, env: Record<string, string | undefined> = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env });
  const timer = setTimeout(() => p.kill("SIGKILL"), seconds * 1000);
  const [stdout, stderr, exit] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code: p.signalCode === "SIGKILL" ? null : exit, stdout, stderr };
}
