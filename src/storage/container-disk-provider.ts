/**
 * containerDisk (v1; v1alpha1's registryDisk converts to it): the disk of
 * an OCI image, pulled once into the node's content-addressed cache, and a
 * qcow2 overlay per VM in its state directory on top of the cached disk.
 * The cached disk is only ever a read-only backing file; a second VM on the
 * same image fetches nothing and only creates its overlay.
 */
import { resolve } from "node:path";
import { pathUnder } from "../paths/index.ts";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { requireStateDir, isWithin, realpathOrNull, removeIfPresent, removeTempLeftovers, tempPathFor } from "./files.ts";
import { findOverlay, makeOverlay, removeOverlay, type OverlayOf } from "./overlay.ts";
import { checkVolumeName, StorageError, type PreparedDisk, type Volume, type VolumeContext, type VolumeProvider } from "./provider.ts";
import { readDiskHeader } from "./disk-header.ts";
import { defaultQemuImg } from "./qemu-img.ts";
import {
  cacheKey,
  DiskCache,
  diskScope,
  InvalidDockerConfigError,
  InvalidReferenceError,
  parseDockerConfigJson,
  parseReference,
  pullDisk,
  PullError,
  type DockerConfig,
  type ImageReference,
  type PullOptions,
  type PullResult,
} from "./registry/index.ts";
import { readSecretKey } from "./secrets.ts";
import { pullOptionsOf } from "./registry-pull-options.ts";

export interface ContainerDiskOptions {
  readonly qemuImg?: string;
  /** Replaces pullDisk (tests). */
  readonly pull?: (reference: string, options: PullOptions) => Promise<PullResult>;
}

/** Keys of a `kubernetes.io/dockerconfigjson` (or legacy `dockercfg`) Secret. */
export const pullSecretKeys = [".dockerconfigjson", ".dockercfg"] as const;

export function containerDiskOverlayPath(stateDir: string, volume: string): string {
  return pathUnder(stateDir, `${volume}.containerdisk.qcow2`);
}

/** Beside the overlay: which image (and path in it) the overlay was made over. */
export function containerDiskRecordPath(stateDir: string, volume: string): string {
  return pathUnder(stateDir, `${volume}.containerdisk.json`);
}

interface OverlayRecord {
  image: string;
  path: string;
  digest: string;
}

async function readRecord(path: string): Promise<OverlayRecord | null> {
  try {
    const r = JSON.parse(await readFile(path, "utf8")) as Partial<OverlayRecord>;
    return typeof r.image === "string" && typeof r.path === "string" && typeof r.digest === "string" ? { image: r.image, path: r.path, digest: r.digest } : null;
  } catch {
    return null;
  }
}

async function writeRecord(path: string, record: OverlayRecord): Promise<void> {
  const temp = tempPathFor(path);
  try {
    await writeFile(temp, JSON.stringify(record) + "\n", { flag: "wx", mode: 0o644 });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

interface Plan {
  readonly overlay: OverlayOf;
  readonly reference: ImageReference;
  readonly image: string;
  readonly cacheDir: string;
  readonly options: PullOptions;
  readonly policy: "Always" | "IfNotPresent" | "Never";
}

async function pullSecretOf(volume: Volume, ctx: VolumeContext): Promise<DockerConfig | undefined> {
  return readPullSecret(volume.name, volume.containerDisk?.imagePullSecret, ctx);
}

/** The pull credentials of an image pull Secret by name; the node's when none is named. `owner` names the volume in errors. */
export async function readPullSecret(owner: string, name: string | undefined, ctx: VolumeContext): Promise<DockerConfig | undefined> {
  if (name === undefined || name === "") return ctx.registry?.pullSecret;
  const read = await readSecretKey(owner, "image pull", name, pullSecretKeys, ctx);
  try {
    return parseDockerConfigJson(read.bytes);
  } catch (error) {
    // The parser's message names entries, never credentials; its cause (a JSON error) may quote the content: drop it.
    const reason = error instanceof InvalidDockerConfigError ? error.message : "it cannot be read";
    throw new StorageError(owner, "invalid", `key "${read.key}" of the image pull Secret "${name}" is unusable: ${reason}`);
  }
}

async function planOf(volume: Volume, ctx: VolumeContext): Promise<Plan> {
  checkVolumeName(volume);
  const cd = volume.containerDisk;
  if (cd === undefined) throw new StorageError(volume.name, "invalid", "it has no containerDisk source");
  if (cd.image.trim() === "") throw new StorageError(volume.name, "invalid", "containerDisk.image is empty");
  try {
    diskScope(cd.path);
  } catch (cause) {
    const message = (cause as Error).message;
    const reason = /^Cannot use disk path ".*?": (.*)$/s.exec(message)?.[1] ?? message;
    throw new StorageError(volume.name, "invalid", `containerDisk.path "${cd.path ?? ""}" is unusable: ${reason}`, { cause });
  }
  const settings = ctx.registry;
  if (settings === undefined || settings.cacheDir === "") {
    throw new StorageError(volume.name, "invalid", "no node cache directory is configured for container disks");
  }
  let reference: ImageReference;
  try {
    reference = parseReference(cd.image, settings.defaultRegistry !== undefined ? { defaultRegistry: settings.defaultRegistry } : {});
  } catch (cause) {
    const reason = cause instanceof InvalidReferenceError ? cause.reason : (cause as Error).message;
    throw new StorageError(volume.name, "invalid", `containerDisk.image "${cd.image}" is not an image reference: ${reason}`, { cause });
  }
  const policy = cd.imagePullPolicy ?? "IfNotPresent";
  if (policy === "Never" && reference.digest === undefined) {
    throw new StorageError(volume.name, "invalid", `imagePullPolicy "Never" finds a disk in the node cache by digest; give containerDisk.image as NAME@sha256:DIGEST, not "${cd.image}"`);
  }
  const pullSecret = await pullSecretOf(volume, ctx);
  await requireStateDir(volume.name, ctx.stateDir);
  const options: PullOptions = {
    ...pullOptionsOf(settings),
    ...(pullSecret !== undefined ? { pullSecret } : {}),
    ...(cd.path !== undefined && cd.path !== "" ? { path: cd.path } : {}),
    onProgress: progressLog(volume.name, cd.image, ctx),
  };
  return {
    overlay: { volume: volume.name, root: ctx.stateDir, path: containerDiskOverlayPath(ctx.stateDir, volume.name) },
    reference,
    image: cd.image,
    cacheDir: resolve(settings.cacheDir),
    options,
    policy,
  };
}

/** Logs a long pull's progress every few seconds: bytes so far, of how many, and the rate. */
function progressLog(volume: string, image: string, ctx: VolumeContext): NonNullable<PullOptions["onProgress"]> {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 2000) return;
    last = now;
    const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
    ctx.log.info("pulling", { volume, image, MiB: mib(p.bytes), ofMiB: mib(p.totalBytes), MiBps: mib(p.bytesPerSecond) });
  };
}

/** imagePullPolicy "Never": the disk must already be in the node cache. */
async function fromCacheOnly(volume: string, plan: Plan): Promise<PullResult> {
  const scope = diskScope(plan.options.path);
  const digest = plan.reference.digest as string;
  const hit = await new DiskCache(plan.cacheDir).lookup(cacheKey(digest, scope.kind === "file" ? scope.path : undefined));
  if (hit === null) throw new StorageError(volume, "missing", `imagePullPolicy is "Never" and "${plan.image}" is not in the node cache "${plan.cacheDir}"`);
  return {
    reference: plan.image,
    digest: hit.digest,
    path: hit.path,
    format: hit.metadata.format,
    virtualSize: hit.metadata.virtualSize,
    bytes: hit.metadata.bytes,
    bytesFetched: 0,
    cacheHit: true,
  };
}

export function containerDiskProvider(options: ContainerDiskOptions = {}): VolumeProvider {
  const qemuImg = options.qemuImg ?? defaultQemuImg;
  const pull = options.pull ?? pullDisk;
  return {
    kind: "containerDisk",
    async check(volume: Volume, ctx: VolumeContext): Promise<void> {
      await planOf(volume, ctx);
    },
    async prepare(volume: Volume, ctx: VolumeContext): Promise<PreparedDisk> {
      const plan = await planOf(volume, ctx);
      const done = (bytesFetched: number, cacheHit: boolean, backing: PreparedDisk["backing"]): PreparedDisk => ({
        name: volume.name,
        kind: "containerDisk",
        path: plan.overlay.path,
        format: "qcow2",
        readOnly: false,
        block: false,
        bytesFetched,
        cacheHit,
        ...(backing !== undefined ? { backing } : {}),
      });
      // A second prepare (a restarted launcher) keeps the VM's overlay and needs no registry,
      // when the overlay is over the image the volume names now; any other overlay is stale.
      const record = containerDiskRecordPath(ctx.stateDir, volume.name);
      const backing = await findOverlay(plan.overlay).catch((e: unknown) => {
        if (e instanceof StorageError && e.code === "missing") return "gone" as const; // its backing file is gone: stale
        throw e;
      });
      if (backing !== null) {
        const cacheRoot = (await realpathOrNull(plan.cacheDir)) ?? plan.cacheDir;
        const real = backing === "gone" ? null : ((await realpathOrNull(backing)) ?? backing);
        if (real !== null && !isWithin(cacheRoot, real)) {
          throw new StorageError(volume.name, "conflict", `the overlay "${plan.overlay.path}" is on "${backing}", outside the node cache "${plan.cacheDir}"`);
        }
        const was = await readRecord(record);
        const wanted = plan.options.path ?? "";
        const same = real !== null && was !== null && was.image === plan.image && was.path === wanted;
        if (same) {
          const header = await readDiskHeader(real).catch(() => null);
          return done(0, true, header === null ? undefined : { path: real, format: header.format });
        }
        // The overlay is disposable (a containerDisk's writes live as long as the VMI): replace it.
        ctx.log.warn("replacing a stale container disk overlay", {
          volume: volume.name,
          was: was === null ? "an unknown image" : `${was.image}${was.path !== "" ? ` path ${was.path}` : ""}`,
          now: `${plan.image}${wanted !== "" ? ` path ${wanted}` : ""}`,
        });
        await removeOverlay(plan.overlay);
        await removeIfPresent(ctx.stateDir, record);
      }
      let pulled: PullResult;
      if (plan.policy === "Never") {
        pulled = await fromCacheOnly(volume.name, plan);
      } else {
        try {
          pulled = await pull(plan.image, plan.options);
        } catch (cause) {
          const reason = cause instanceof PullError ? `cannot pull "${cause.reference}": ${cause.reason}` : `cannot pull "${plan.image}": ${(cause as Error).message}`;
          throw new StorageError(volume.name, "pull", reason, { cause });
        }
      }
      const t0 = performance.now();
      await removeIfPresent(ctx.stateDir, record);
      await makeOverlay(plan.overlay, qemuImg, resolve(pulled.path), pulled.format);
      await writeRecord(record, { image: plan.image, path: plan.options.path ?? "", digest: pulled.digest }).catch(async (cause: unknown) => {
        await removeOverlay(plan.overlay);
        throw new StorageError(volume.name, "io", `cannot write "${record}": ${(cause as Error).message}`, { cause });
      });
      ctx.log.info("created a container disk overlay", {
        volume: volume.name,
        image: pulled.reference,
        digest: pulled.digest,
        path: plan.overlay.path,
        bytesFetched: pulled.bytesFetched,
        cacheHit: pulled.cacheHit,
        overlayMs: Math.round((performance.now() - t0) * 10) / 10,
      });
      return done(pulled.bytesFetched, pulled.cacheHit, { path: resolve(pulled.path), format: pulled.format });
    },
    async cleanup(volume: Volume, ctx: VolumeContext): Promise<string[]> {
      checkVolumeName(volume);
      const gone = await removeOverlay({ volume: volume.name, root: ctx.stateDir, path: containerDiskOverlayPath(ctx.stateDir, volume.name) });
      const record = containerDiskRecordPath(ctx.stateDir, volume.name);
      gone.push(...(await removeTempLeftovers(ctx.stateDir, record)));
      if (await removeIfPresent(ctx.stateDir, record)) gone.push(record);
      return gone;
    },
  };
}
