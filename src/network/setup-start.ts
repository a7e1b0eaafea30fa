/**
 * The first step of every binding's setup, before anything is changed: the
 * context is checked (the spec was admitted before it got here), and a state
 * file left by an earlier setup (a restarted launcher) must be of the same
 * binding and the same input to be reused.
 */
import type { BindingContext, BindingKind } from "./binding.ts";
import type { Interface, Network } from "./spec.ts";
import { canonicalJson } from "../api/canonical-json.ts";
import { readState, statePath } from "./state.ts";
import { bridgeName, contextProblems } from "./validate.ts";

/** What a setup was asked for; a later setup must ask for the same. */
export interface BindingInput {
  nic: Interface;
  network: Network | undefined;
  podInterface: string;
  tap: string;
  existingTap: boolean;
  multiQueue: boolean;
}

export function setupFailure(kind: BindingKind, nic: Interface, problems: string[]): Error {
  return new Error(`Cannot set up ${kind} binding for interface "${nic.name}": ${problems.join("; ")}`);
}

export interface SetupStart<S> {
  log: (line: string) => void;
  /** The bridge this binding uses (KubeVirt's k6t-<pod interface>). */
  bridge: string;
  /** The state file. */
  path: string;
  input: BindingInput;
  /** The state of an earlier setup with the same input, to reuse; null on a first setup. */
  prior: S | null;
}

export async function startSetup<S extends { kind: BindingKind; input: BindingInput }>(
  kind: S["kind"],
  nic: Interface,
  network: Network | undefined,
  ctx: BindingContext,
): Promise<SetupStart<S>> {
  const problems = contextProblems(ctx);
  if (problems.length > 0) throw setupFailure(kind, nic, problems);
  const path = statePath(ctx.stateDir, ctx.podInterface);
  const input: BindingInput = {
    nic,
    network,
    podInterface: ctx.podInterface,
    tap: ctx.tap,
    existingTap: ctx.existingTap ?? false,
    multiQueue: ctx.multiQueue ?? false,
  };
  const previous = await readState<S | { kind: string }>(path);
  if (previous !== null && previous.kind !== kind) {
    throw setupFailure(kind, nic, [`this namespace holds a ${previous.kind} binding on "${ctx.podInterface}" (state "${path}"); tear it down first`]);
  }
  const prior = previous as S | null;
  if (prior !== null && canonicalJson(prior.input) !== canonicalJson(input)) {
    throw setupFailure(kind, nic, [`the namespace was set up for other input (state "${path}" holds ${canonicalJson(prior.input)}, asked for ${canonicalJson(input)}); tear it down first`]);
  }
  return { log: ctx.log ?? ((): void => {}), bridge: bridgeName(ctx.podInterface), path, input, prior };
}
