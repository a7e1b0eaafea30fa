/**
 * How tests run bunvirt: the compiled executable, as users run it. It must be
 * built (`bun run build`) and newer than every source it is built from; a
 * missing or stale compiled/bunvirt fails the test instead of quietly running
 * `bun src/main.ts`, which would test the sources, not the executable.
 * BUNVIRT_BIN names another executable to test instead.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const repo = new URL("../../", import.meta.url).pathname;
const compiled = `${repo}compiled/bunvirt`;

/** The newest file compiled/bunvirt is built from: src/ (tests excluded), package.json, bun.lock. */
function newestSource(): { path: string; mtimeMs: number } {
  let newest = { path: "", mtimeMs: 0 };
  const consider = (path: string): void => {
    const mtimeMs = statSync(path).mtimeMs;
    if (mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
  };
  for (const entry of readdirSync(join(repo, "src"), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && !entry.name.endsWith(".test.ts")) consider(join(entry.parentPath, entry.name));
  }
  for (const f of ["package.json", "bun.lock"]) if (existsSync(join(repo, f))) consider(join(repo, f));
  return newest;
}

let checked: string | undefined;

/** The command that runs bunvirt; throws when compiled/bunvirt is missing or older than its sources. */
export function bunvirtCommand(): string[] {
  if (process.env.BUNVIRT_BIN !== undefined) return [process.env.BUNVIRT_BIN];
  if (checked === undefined) {
    if (!existsSync(compiled)) throw new Error(`Cannot run "${compiled}": it is missing; build it with 'bun run build'`);
    const built = statSync(compiled).mtimeMs;
    const source = newestSource();
    if (source.mtimeMs > built) {
      throw new Error(`Cannot run "${compiled}": it is older than "${source.path.slice(repo.length)}"; rebuild it with 'bun run build'`);
    }
    checked = compiled;
  }
  return [checked];
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
