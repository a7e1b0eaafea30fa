/** How tests run bunvirt: the compiled executable when it was built, else the sources through bun. */
import { existsSync } from "node:fs";

const repo = new URL("../../", import.meta.url).pathname;
const compiled = `${repo}compiled/bunvirt`;

export function bunvirtCommand(): string[] {
  if (process.env.BUNVIRT_BIN !== undefined) return [process.env.BUNVIRT_BIN];
  return existsSync(compiled) ? [compiled] : [process.execPath, `${repo}src/main.ts`];
}

export const repoRoot = repo;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runBunvirt(args: string[], opts: { stdin?: string } = {}): Promise<RunResult> {
  const p = Bun.spawn([...bunvirtCommand(), ...args], {
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}
