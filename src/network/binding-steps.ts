/**
 * The steps every binding takes after its checks (setup-start.ts), the same
 * for masquerade and bridge: the lease is checked, the state is written
 * before the first change (so a restarted launcher can finish or undo what
 * was made), a first setup that fails half-way is undone, the result is
 * recorded; teardown reads the state back and refuses another binding's.
 */
import type { BindingContext, BindingKind, BindingResult } from "./binding.ts";
import { type LeaseConfig, leaseConfigProblems } from "./dhcp/index.ts";
import { setupFailure } from "./setup-start.ts";
import type { Interface } from "./spec.ts";
import { readState, statePath, writeState } from "./state.ts";

const text = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Throws the setup failure when the lease the binding built is not one the DHCP server can serve. */
export function checkLease(kind: BindingKind, nic: Interface, lease: LeaseConfig): void {
  const problems = leaseConfigProblems(lease);
  if (problems.length > 0) throw setupFailure(kind, nic, problems.map((p) => `DHCP lease: ${p}`));
}

export interface Change<S> {
  kind: BindingKind;
  nic: Interface;
  /** The state file and the state of an earlier setup (null on a first setup). */
  path: string;
  prior: S | null;
  /** The state to write before the first change (the prior state on a repeated setup). */
  state: S;
  log: (line: string) => void;
  /** Converges the namespace to what the binding wants. */
  change: () => Promise<void>;
  /** Undoes a first setup that failed half-way. */
  undo: () => Promise<void>;
}

/** Runs `change` with the state written first; on failure a first setup is undone and the error says which binding failed. */
export async function applyChange<S>(c: Change<S>): Promise<void> {
  if (c.prior === null) await writeState(c.path, c.state);
  try {
    await c.change();
  } catch (cause) {
    if (c.prior === null) await c.undo().catch((e: unknown) => c.log(`${c.kind}: cleanup after failed setup: ${text(e)}`));
    throw new Error(`Cannot set up ${c.kind} binding for interface "${c.nic.name}": ${text(cause)}`, { cause });
  }
}

/** Records the result in the state (a repeated setup returns it unchanged) and returns it. */
export async function recordResult<S extends { result?: BindingResult }>(path: string, state: S, result: BindingResult): Promise<BindingResult> {
  state.result = result;
  await writeState(path, state);
  return result;
}

/** The state a teardown works from: null when there is none, an error when another binding wrote it. */
export async function stateToTear<S>(kind: BindingKind, nic: Interface, ctx: BindingContext): Promise<{ path: string; state: S } | null> {
  const path = statePath(ctx.stateDir, ctx.podInterface);
  const state = await readState<S | { kind: string }>(path);
  if (state === null) return null;
  if ((state as { kind: string }).kind !== kind) {
    throw new Error(`Cannot tear down ${kind} binding for interface "${nic.name}": the state "${path}" is of a ${(state as { kind: string }).kind} binding`);
  }
  return { path, state: state as S };
}

/** A binding's teardown(ctx?): the given context, else the one its setup was called with. */
export function teardownWith(kind: BindingKind, nic: Interface, remembered: () => BindingContext | null, tear: (ctx: BindingContext) => Promise<void>): (ctx?: BindingContext) => Promise<void> {
  return async (ctx?: BindingContext): Promise<void> => {
    const use = ctx ?? remembered();
    if (use === null) throw new Error(`Cannot tear down ${kind} binding for interface "${nic.name}": no context (setup was not called)`);
    await tear(use);
  };
}
