/**
 * The client commands' command line: one NAME, -n/--namespace,
 * --kubeconfig, --context, -h/--help, plus each command's own flags. virtctl's
 * spelling of booleans (`--force=true`, `--paused=false`) is taken too.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { UsageError } from "../usage.ts";

export interface VirtArgs {
  name: string;
  namespace: string | undefined;
  kubeconfig: string | undefined;
  context: string | undefined;
  values: Record<string, string | boolean | undefined>;
}

/** Parsed arguments, or "help" when -h/--help was given. */
export function parseVirtArgs(command: string, args: string[], own: ParseArgsOptionsConfig): VirtArgs | "help" {
  const booleans = new Set(Object.entries(own).filter(([, o]) => o.type === "boolean").map(([n]) => n));
  const normalized: string[] = [];
  for (const a of args) {
    const m = /^--([a-z-]+)=(true|false)$/.exec(a);
    if (m !== null && booleans.has(m[1]!)) {
      if (m[2] === "true") normalized.push(`--${m[1]}`);
      continue;
    }
    normalized.push(a);
  }
  const { values, positionals } = parseArgs({
    args: normalized,
    allowPositionals: true,
    strict: true,
    options: {
      namespace: { type: "string", short: "n" },
      kubeconfig: { type: "string" },
      context: { type: "string" },
      help: { type: "boolean", short: "h" },
      ...own,
    },
  });
  if (values.help === true) return "help";
  if (positionals.length !== 1) throw new UsageError(`${command} takes one name, got ${positionals.length === 0 ? "none" : `"${positionals.join(" ")}"`}`);
  const name = positionals[0]!;
  if (name === "" || name.length > 253) throw new UsageError(`${command}: the name must be 1 to 253 characters`);
  const namespace = values.namespace as string | undefined;
  if (namespace !== undefined && (namespace === "" || namespace.length > 63)) throw new UsageError(`--namespace must be 1 to 63 characters`);
  return { name, namespace, kubeconfig: values.kubeconfig as string | undefined, context: values.context as string | undefined, values: values as VirtArgs["values"] };
}

/** --grace-period: a whole number of seconds, 0 or more (virtctl's is int64; Kubernetes keeps them as such). */
export function gracePeriodFlag(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^[0-9]{1,10}$/.test(value) || Number(value) > 2 ** 31 - 1) {
    throw new UsageError(`--grace-period "${String(value)}" is not a whole number of seconds from 0 to ${2 ** 31 - 1}`);
  }
  return Number(value);
}
