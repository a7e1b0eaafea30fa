/**
 * Running iproute2 and nftables: every helper in src/network shells out
 * through here, so errors read the same everywhere and removal of something
 * already gone is not an error.
 */

import { spawnOwn } from "../process/own-children.ts";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(argv: string[], stdin?: string): Promise<CommandResult> {
  const proc = spawnOwn(argv, {
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

function failure(argv: string[], r: CommandResult): Error {
  return new Error(`Cannot run "${argv.join(" ")}": exit ${r.code}: "${r.stderr.trim()}"`);
}

/** Runs `argv`; throws unless it exits 0. Returns stdout. */
export async function must(argv: string[], stdin?: string): Promise<string> {
  const r = await run(argv, stdin);
  if (r.code !== 0) throw failure(argv, r);
  return r.stdout;
}

/** What iproute2 and nft print when the thing to remove is already gone. */
const GONE = /No such (file or directory|process|device)|Cannot find device|does not exist|Cannot assign requested address|not found/i;

/** Runs a removal; "already gone" counts as done. */
export async function remove(argv: string[]): Promise<void> {
  const r = await run(argv);
  if (r.code === 0 || GONE.test(r.stderr)) return;
  throw failure(argv, r);
}

/** Parses the JSON a `-j` command printed ("" is an empty list). */
export function parseJson(argv: string[], text: string): unknown {
  try {
    return JSON.parse(text.trim() === "" ? "[]" : text) as unknown;
  } catch (cause) {
    throw new Error(`Cannot read the output of "${argv.join(" ")}": not JSON: "${text.slice(0, 200)}"`, { cause });
  }
}

export async function json(argv: string[]): Promise<unknown> {
  return parseJson(argv, await must(argv));
}

/** Runs every step in order, even after one failed, and throws one error naming every failure. */
export async function runAll(what: string, steps: (() => Promise<void>)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) {
    const text = errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ");
    throw new Error(`Cannot ${what}: ${errors.length} step(s) failed: ${text}`, {
      cause: errors.length === 1 ? errors[0] : new AggregateError(errors),
    });
  }
}
