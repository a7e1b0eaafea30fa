/**
 * `bunvirt volumes prepare|cleanup FILE --state-dir DIR [...]`: prepares a
 * manifest's volumes exactly as the launcher will (one JSON line per
 * volume), or undoes that. Any VM, VMI or v1alpha1 VM that validates.
 */
import { mkdir, rmdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseQuantity } from "../api/quantity.ts";
import { vmiOf } from "../domain/vmi-of.ts";
import { checkStateDir } from "../launcher/state-dir.ts";
import { cleanupVolumes, prepareVolumes } from "../storage/prepare-volumes.ts";
import type { ClaimMount, StorageLog, VolumeContext } from "../storage/provider.ts";
import { hostDiskRootsFlag } from "./host-disk-dir-flag.ts";
import { oneVm } from "./input-set.ts";
import { secondsFlag } from "./seconds-flag.ts";
import { UsageError } from "./usage.ts";

export const defaultCacheDir = "/var/cache/bunvirt/container-disks";

export const volumesUsage = `Usage:
  bunvirt volumes prepare FILE --state-dir DIR [options]   prepare every volume as the launcher will; one JSON line per volume
  bunvirt volumes cleanup FILE --state-dir DIR [options]   remove what prepare made in DIR

Options:
  --state-dir DIR              the VM's private state directory (created by prepare when missing)
  --claim NAME=PATH[:SIZE]     where claim NAME is: a directory holding disk.img, or a block device;
                               SIZE (e.g. 10Gi) is the claim's capacity, needed to create a missing disk.img
  --secret NAME=DIR            a Secret as mounted: a directory with one file per key
  --host-disk-dir DIR          allow hostDisk volumes below DIR (repeatable; none by default)
  --registry HOST[:PORT]       registry for image references without a host (default docker.io)
  --insecure-registry HOST     speak plain HTTP to HOST[:PORT] (repeatable)
  --cache-dir DIR              the node's container disk cache (default ${defaultCacheDir})
  --registry-timeout SECONDS   a registry request fails when nothing arrives for this long (default 30)
  --max-disk-size SIZE         largest uncompressed disk taken from an image, e.g. 100Gi (default 64Gi)
`;

export interface ClaimFlag {
  readonly name: string;
  readonly mount: ClaimMount;
}

/** `NAME=PATH[:SIZE]`: SIZE is taken only when the text after the last ":" is a quantity. */
export function parseClaimFlag(text: string): ClaimFlag {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UsageError(`--claim "${text}" is not NAME=PATH[:SIZE]`);
  const name = text.slice(0, eq);
  let path = text.slice(eq + 1);
  let capacity: number | undefined;
  const colon = path.lastIndexOf(":");
  if (colon > 0) {
    const size = path.slice(colon + 1);
    const value = size === "" ? null : parseQuantity(size);
    if (value !== null) {
      if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--claim "${text}": size "${size}" is not a positive quantity`);
      capacity = Math.floor(value);
      path = path.slice(0, colon);
    }
  }
  if (path === "") throw new UsageError(`--claim "${text}" gives no PATH`);
  return { name, mount: { path: resolve(path), ...(capacity !== undefined ? { capacity } : {}) } };
}

/** `--registry-timeout SECONDS` and `--max-disk-size SIZE` as registry settings (absent: the puller's defaults). */
export function parseRegistryLimits(values: { "registry-timeout"?: string; "max-disk-size"?: string }): { timeoutMs?: number; maxDiskBytes?: number } {
  const out: { timeoutMs?: number; maxDiskBytes?: number } = {};
  const seconds = secondsFlag("registry-timeout", values["registry-timeout"]);
  if (seconds !== undefined) {
    if (seconds > 86_400) throw new UsageError(`--registry-timeout "${values["registry-timeout"]}" is more than a day (86400 seconds)`);
    out.timeoutMs = Math.max(1, Math.round(seconds * 1000));
  }
  const size = values["max-disk-size"];
  if (size !== undefined) {
    const bytes = parseQuantity(size);
    if (bytes === null || !Number.isSafeInteger(Math.floor(bytes)) || bytes < 1) {
      throw new UsageError(`--max-disk-size must be a size such as 100Gi, not "${size}"`);
    }
    out.maxDiskBytes = Math.floor(bytes);
  }
  return out;
}

/** `NAME=DIR`. */
export function parseSecretFlag(text: string): { name: string; dir: string } {
  const eq = text.indexOf("=");
  if (eq <= 0 || eq === text.length - 1) throw new UsageError(`--secret "${text}" is not NAME=DIR`);
  return { name: text.slice(0, eq), dir: resolve(text.slice(eq + 1)) };
}

function unique<T extends { name: string }>(flag: string, items: T[]): T[] {
  const seen = new Set<string>();
  for (const i of items) {
    if (seen.has(i.name)) throw new UsageError(`${flag} "${i.name}" is given more than once`);
    seen.add(i.name);
  }
  return items;
}

export async function volumesCommand(args: string[], out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      "state-dir": { type: "string" },
      claim: { type: "string", multiple: true },
      "host-disk-dir": { type: "string", multiple: true },
      secret: { type: "string", multiple: true },
      registry: { type: "string" },
      "insecure-registry": { type: "string", multiple: true },
      "cache-dir": { type: "string" },
      "registry-timeout": { type: "string" },
      "max-disk-size": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    out(volumesUsage);
    return 0;
  }
  const [action, file, ...extra] = positionals;
  if (action !== "prepare" && action !== "cleanup") throw new UsageError(`volumes needs "prepare" or "cleanup", not ${action === undefined ? "nothing" : `"${action}"`}`);
  if (file === undefined || extra.length > 0) throw new UsageError(`volumes ${action} needs exactly one FILE`);
  if (values["state-dir"] === undefined || values["state-dir"] === "") throw new UsageError(`volumes ${action} needs --state-dir DIR`);
  const claims = unique("--claim", (values.claim ?? []).map(parseClaimFlag));
  const secrets = unique("--secret", (values.secret ?? []).map(parseSecretFlag));
  const limits = parseRegistryLimits(values);
  const hostDiskRoots = hostDiskRootsFlag(values["host-disk-dir"]);

  const found = await oneVm([file], `volumes ${action}`);
  if ("errors" in found) {
    for (const line of found.errors) err(line);
    return 1;
  }
  const { doc } = found;
  const { identity, spec } = vmiOf(found.valid);
  const stateDir = resolve(values["state-dir"]);
  try {
    checkStateDir(stateDir);
  } catch (e) {
    err(`${doc.label}: ${(e as Error).message}`);
    return 1;
  }
  const log: StorageLog = {
    info: () => undefined,
    warn: (message, fields) => err(`${doc.label}: warning: ${message}${fields !== undefined ? ` ${JSON.stringify(fields)}` : ""}`),
  };
  const ctx: VolumeContext = {
    stateDir,
    claims: Object.fromEntries(claims.map((c) => [c.name, c.mount])),
    secrets: Object.fromEntries(secrets.map((s) => [s.name, s.dir])),
    hostDiskRoots,
    registry: {
      cacheDir: resolve(values["cache-dir"] ?? defaultCacheDir),
      ...(values.registry !== undefined ? { defaultRegistry: values.registry } : {}),
      ...(values["insecure-registry"] !== undefined ? { insecureRegistries: values["insecure-registry"] } : {}),
      ...limits,
    },
    vmi: { ...identity, ...(spec.hostname !== undefined ? { hostname: spec.hostname } : {}) },
    log,
  };
  let created: string | undefined;
  try {
    if (action === "prepare") {
      created = await mkdir(stateDir, { recursive: true });
      const result = await prepareVolumes(spec, ctx);
      for (const d of result.disks) {
        out(JSON.stringify({
          name: d.name,
          kind: d.kind,
          path: d.path,
          format: d.format,
          readOnly: d.readOnly,
          block: d.block,
          bytesFetched: d.bytesFetched ?? null,
          cacheHit: d.cacheHit ?? null,
        }));
      }
    } else {
      for (const c of await cleanupVolumes(spec, ctx)) out(JSON.stringify(c));
    }
  } catch (e) {
    if (created !== undefined) await removeEmptyUpTo(stateDir, created);
    err(`${doc.label}: ${(e as Error).message}`);
    return 1;
  }
  return 0;
}

/** Removes the directories prepare created for the state directory (from `dir` up to `top`), when empty. */
async function removeEmptyUpTo(dir: string, top: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      await rmdir(d);
    } catch {
      return;
    }
    if (d === top || dirname(d) === d) return;
  }
}
