/**
 * Settings from a directory (--config-dir: a mounted ConfigMap, each key a
 * file `KEY -> ..data/KEY`): every file is a flag named like the file and
 * its content the flag's value. Dotfiles (the kubelet's `..data` and
 * timestamped directories) are not settings. Flags on the command line win.
 * Reading is I/O at the edge; checking, merging and comparing snapshots are
 * pure.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "./usage.ts";

/** The flags a config dir may set. */
export const configKeys = ["emulation", "ip-forward-sysctl", "registry", "insecure-registry", "log-level", "log-format", "host-disk-dirs"] as const;

/** Keys whose value is "true" or "false". */
const booleanKeys: ReadonlySet<string> = new Set(["emulation", "ip-forward-sysctl"]);

/** File name → content (one trailing newline dropped). */
export type ConfigSnapshot = Readonly<Record<string, string>>;

/** The dir's settings now (symlinks followed). */
export function readConfigDir(dir: string): ConfigSnapshot {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new Error(`Cannot read the settings in "${dir}": ${(e as Error).message}`, { cause: e });
  }
  const out: Record<string, string> = {};
  for (const name of names.filter((n) => !n.startsWith(".")).sort()) {
    try {
      out[name] = readFileSync(join(dir, name), "utf8").replace(/\r?\n$/, "");
    } catch (e) {
      // A key removed between the listing and the read (the kubelet swaps ..data): absent.
      if ((e as { code?: string }).code === "ENOENT") continue;
      throw new Error(`Cannot read the setting "${name}" in "${dir}": ${(e as Error).message}`, { cause: e });
    }
  }
  return out;
}

/** The flag values a snapshot sets (emulation, ip-forward-sysctl booleans); an unknown key or a bad boolean is a usage error. */
export function configFlags(snapshot: ConfigSnapshot, dir: string): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const [key, value] of Object.entries(snapshot)) {
    if (!(configKeys as readonly string[]).includes(key)) {
      throw new UsageError(`Cannot use the settings in "${dir}": unknown key "${key}" (known: ${configKeys.join(", ")})`);
    }
    if (booleanKeys.has(key)) {
      const v = value.trim();
      if (v !== "true" && v !== "false") throw new UsageError(`Cannot use the settings in "${dir}": "${key}" must be "true" or "false", not "${value}"`);
      out[key] = v === "true";
    } else {
      out[key] = value.trim();
    }
  }
  return out;
}

/** The command line's flags over the dir's: a flag given on the command line wins. */
export function withConfigFlags<T extends Record<string, unknown>>(given: T, fromDir: Record<string, string | boolean>): T {
  const out: Record<string, unknown> = { ...given };
  for (const [key, value] of Object.entries(fromDir)) if (out[key] === undefined) out[key] = value;
  return out as T;
}

/** Keys added, removed or changed between two snapshots, sorted, except those in `ignored`. */
export function changedKeys(before: ConfigSnapshot, after: ConfigSnapshot, ignored: ReadonlySet<string> = new Set()): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => !ignored.has(k) && before[k] !== after[k]).sort();
}
