/**
 * `bunvirt import`: one DataVolume's import into its mounted claim, as CDI's
 * importer pod does — what the controller's importer pod runs (the same
 * executable as every role). Progress goes to stdout as CDI's percent
 * ("NN.NN%"); the outcome is the exit code (0 imported or already there,
 * 1 failed, 2 usage) and a short termination message for the pod's status
 * (/dev/termination-log when it exists, or --termination-log FILE).
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import * as v from "valibot";
import { dataVolumeTemplate, type DataVolumeTemplate } from "../api/v1/data-volume.ts";
import { importDataVolume, templateSize, type ImportProgress } from "../storage/import/index.ts";
import { progressLine } from "../storage/import/progress-line.ts";
import type { StorageLog } from "../storage/provider.ts";
import { defaultCacheDir, parseClaimFlag, parseRegistryLimits, parseSecretFlag } from "./volumes.ts";
import { UsageError } from "./usage.ts";

export const importUsage = `Usage:
  bunvirt import --data-volume-json FILE|- --claim NAME=DIR[:SIZE] [options]

Imports one DataVolume (a dataVolumeTemplate, or a cdi.kubevirt.io DataVolume, as JSON)
into its claim: DIR/disk.img. A claim that already holds disk.img is left as it is.

Options:
  --data-volume-json FILE|-   the DataVolume as JSON ("-": stdin)
  --claim NAME=DIR[:SIZE]     where claim NAME is mounted (repeatable): the DataVolume's own, and a pvc source's
  --secret NAME=DIR           a Secret as mounted (an http or registry source's secretRef)
  --registry HOST[:PORT]      registry for image references without a host
  --insecure-registry HOST    plain HTTP to HOST[:PORT] (repeatable)
  --cache-dir DIR             where a registry source's layers are cached (default ${defaultCacheDir})
  --registry-timeout SECONDS  a request fails when nothing arrives for this long (default 30)
  --termination-log FILE      where the outcome is written (default /dev/termination-log, when it exists)

Exit codes: 0 imported (or imported before), 1 the import failed, 2 usage error.
`;

/** The kubelet keeps at most 4096 bytes of a termination message; ours stay well under. */
export const maxTerminationMessage = 1024;
export const defaultTerminationLog = "/dev/termination-log";

/** A termination message: one line, at most maxTerminationMessage bytes. */
export function terminationMessage(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  const bytes = new TextEncoder().encode(line);
  if (bytes.length <= maxTerminationMessage) return line;
  return `${new TextDecoder().decode(bytes.slice(0, maxTerminationMessage - 3)).replace(/\uFFFD$/, "")}...`;
}

/** The DataVolume from JSON: a template, or a DataVolume object (its metadata and spec). */
export function parseDataVolume(text: string, from: string): DataVolumeTemplate {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`Cannot read the DataVolume from ${from}: ${(e as Error).message}`);
  }
  const obj = raw as { metadata?: { name?: unknown; namespace?: unknown; labels?: unknown; annotations?: unknown }; spec?: unknown } | null;
  const picked = obj === null || typeof obj !== "object" ? obj : {
    metadata: { name: obj.metadata?.name, ...(obj.metadata?.namespace !== undefined ? { namespace: obj.metadata.namespace } : {}) },
    spec: obj.spec,
  };
  const r = v.safeParse(dataVolumeTemplate, picked);
  if (!r.success) {
    const issue = r.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join(".") ?? "";
    throw new UsageError(`Cannot read the DataVolume from ${from}: ${path === "" ? "" : `${path}: `}${issue.message}`);
  }
  return r.output;
}

async function readInput(file: string): Promise<string> {
  return file === "-" ? await new Response(Bun.stdin.stream()).text() : await Bun.file(file).text();
}

export interface ImportIo {
  out(line: string): void;
  err(line: string): void;
  signal?: AbortSignal;
}

export async function importCommand(args: string[], io: ImportIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      "data-volume-json": { type: "string" },
      claim: { type: "string", multiple: true },
      secret: { type: "string", multiple: true },
      registry: { type: "string" },
      "insecure-registry": { type: "string", multiple: true },
      "cache-dir": { type: "string" },
      "registry-timeout": { type: "string" },
      "termination-log": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    io.out(importUsage);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`import takes no arguments, got "${positionals.join(" ")}"`);
  const file = values["data-volume-json"];
  if (file === undefined || file === "") throw new UsageError("import needs --data-volume-json FILE|-");
  const claims = Object.fromEntries((values.claim ?? []).map((c) => { const x = parseClaimFlag(c); return [x.name, x.mount]; }));
  const secrets = Object.fromEntries((values.secret ?? []).map((s) => { const x = parseSecretFlag(s); return [x.name, x.dir]; }));
  const limits = parseRegistryLimits(values);
  const termination = values["termination-log"] ?? (existsSync(defaultTerminationLog) ? defaultTerminationLog : undefined);
  const finish = async (code: number, message: string): Promise<number> => {
    if (termination !== undefined) await writeFile(termination, terminationMessage(message)).catch((e: unknown) => io.err(`Cannot write the termination message to "${termination}": ${(e as Error).message}`));
    return code;
  };

  let text: string;
  try {
    text = await readInput(file);
  } catch (e) {
    throw new UsageError(`Cannot read the DataVolume from "${file}": ${(e as Error).message}`);
  }
  const template = parseDataVolume(text, file === "-" ? "stdin" : `"${file}"`);
  const name = template.metadata.name;
  const claim = claims[name];
  if (claim === undefined) throw new UsageError(`import needs --claim ${name}=DIR: the DataVolume's claim (named after it)`);
  let sizeBytes: number;
  try {
    sizeBytes = templateSize(template);
  } catch (e) {
    return finish(1, (e as Error).message);
  }
  const log: StorageLog = {
    info: (m, f) => io.err(`${m}${f === undefined ? "" : ` ${JSON.stringify(f)}`}`),
    warn: (m, f) => io.err(`warning: ${m}${f === undefined ? "" : ` ${JSON.stringify(f)}`}`),
  };
  let last = 0;
  const onProgress = (p: ImportProgress): void => {
    const now = Date.now();
    const line = progressLine(p, now - last);
    if (line === null) return;
    last = now;
    io.out(line);
  };
  try {
    const out = await importDataVolume({ name, source: template.spec.source ?? {}, sizeBytes, claim }, {
      claims,
      secrets,
      registry: {
        cacheDir: resolve(values["cache-dir"] ?? defaultCacheDir),
        ...(values.registry !== undefined ? { defaultRegistry: values.registry } : {}),
        ...(values["insecure-registry"] !== undefined ? { insecureRegistries: values["insecure-registry"] } : {}),
        ...limits,
        ...(io.signal !== undefined ? { signal: io.signal } : {}),
      },
      log,
      ...(limits.timeoutMs !== undefined ? { limits: { stallMs: limits.timeoutMs } } : {}),
      ...(io.signal !== undefined ? { signal: io.signal } : {}),
      onProgress,
    });
    const message = out.state === "present" ? `Import Complete: DataVolume "${name}" was imported before` : `Import Complete: DataVolume "${name}"`;
    io.out(message);
    return finish(0, message);
  } catch (e) {
    const message = (e as Error).message;
    io.err(message);
    return finish(1, message);
  }
}
