/**
 * The one interface every volume provider implements. A provider turns a v1
 * Volume plus the launcher's context into a disk QEMU can open
 * (`prepare`), and removes what it made when the VM stops (`cleanup`).
 *
 * Rules every provider keeps (and tests/contracts/storage-provider.ts proves):
 * - bad input is rejected before anything is created;
 * - files appear under a temporary name and are published last, so a
 *   failure part-way leaves nothing behind;
 * - preparing twice returns the same disk and creates nothing new;
 * - cleanup removes exactly what prepare created (a claim is persistent and
 *   is never touched).
 */
import { isDns1123Label } from "../api/names.ts";
import type { VmiSpec } from "../api/v1/vmi.ts";
import type { PreparedVolume } from "../domain/facts.ts";
import type { DockerConfig } from "./registry/index.ts";

/** A kubevirt.io/v1 volume. */
export type Volume = NonNullable<VmiSpec["volumes"]>[number];

/** The volume source keys bunvirt has a provider for; a provider is named by its key. */
export type ProviderKind = "persistentVolumeClaim" | "ephemeral" | "containerDisk" | "emptyDisk" | "cloudInitNoCloud" | "dataVolume" | "hostDisk";

export const providerKinds: readonly ProviderKind[] = ["persistentVolumeClaim", "ephemeral", "containerDisk", "emptyDisk", "cloudInitNoCloud", "dataVolume", "hostDisk"];

/** Where the pod has a claim: a directory (filesystem mode) or a block device (block mode). */
export interface ClaimMount {
  /**
   * Local run: `<claimsDir>/<claimName>/` or a block device; in a cluster
   * KubeVirt's `/var/run/kubevirt-private/vmi-disks/<volume>/` or `/dev/<volume>`.
   */
  readonly path: string;
  /**
   * The claim's capacity in bytes; needed to create `disk.img` in a
   * filesystem-mode claim that has none. Never guessed.
   */
  readonly capacity?: number;
}

/** A directory hostDisk volumes may use (the operator's setting) and where this process reaches it. */
export interface HostDiskRoot {
  /** The allowed directory on the node, as manifests name it (host-disk-dirs, `--host-disk-dir`). */
  readonly dir: string;
  /** Where it is here: the same path in a local run, the pod's hostPath mount in a launcher pod. */
  readonly at: string;
}

/** How containerDisk images are pulled and cached on this node. */
export interface RegistrySettings {
  /** The node's content-addressed disk cache. */
  readonly cacheDir: string;
  /** Registry for references without a host (the puller's default: docker.io). */
  readonly defaultRegistry?: string;
  /** Registries ("host" or "host:port") spoken to over plain HTTP. */
  readonly insecureRegistries?: readonly string[];
  /** Node-wide pull credentials, used when a volume names no imagePullSecret. */
  readonly pullSecret?: DockerConfig;
  /** Extra CA certificates (PEM) for https registries. */
  readonly caCertificates?: readonly string[];
  /** Idle timeout of every registry request, in ms (the puller's default: 30 s). */
  readonly timeoutMs?: number;
  /** Largest uncompressed disk accepted from an image, in bytes (the puller's default: 64 GiB). */
  readonly maxDiskBytes?: number;
  /** Aborts pulls in progress (e.g. Ctrl-C while `bunvirt run` stages its disks). */
  readonly signal?: AbortSignal;
}

/** The VMI the volumes belong to. */
export interface VmiRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  /** spec.hostname; the VMI name when absent. */
  readonly hostname?: string;
}

export interface StorageLog {
  info(message: string, fields?: Readonly<Record<string, string | number | boolean>>): void;
  warn(message: string, fields?: Readonly<Record<string, string | number | boolean>>): void;
}

export const silentLog: StorageLog = { info: () => undefined, warn: () => undefined };

/** What the launcher knows when it prepares a VM's volumes. */
export interface VolumeContext {
  /** The VM's private state directory (must exist); providers put their files here. */
  readonly stateDir: string;
  /** Claim name -> where the pod has it. */
  readonly claims: Readonly<Record<string, ClaimMount>>;
  /** Secret name -> directory of its keys, as a mounted Secret. */
  readonly secrets: Readonly<Record<string, string>>;
  readonly registry?: RegistrySettings;
  /** The directories hostDisk volumes may use; none (the default) refuses every hostDisk. */
  readonly hostDiskRoots?: readonly HostDiskRoot[];
  readonly vmi: VmiRef;
  readonly log: StorageLog;
}

/** A volume as its provider prepared it. */
export interface PreparedDisk {
  /** The volume's name. */
  readonly name: string;
  /** The provider that prepared it (the volume's source key). */
  readonly kind: ProviderKind;
  /** The file or block device QEMU opens. */
  readonly path: string;
  readonly format: "raw" | "qcow2";
  readonly readOnly: boolean;
  /** True when `path` is a block device. */
  readonly block: boolean;
  /** Blob bytes this call received from a registry (containerDisk only). */
  readonly bytesFetched?: number;
  /** True when the disk came from the node cache (containerDisk only). */
  readonly cacheHit?: boolean;
  /** The read-only image under a copy-on-write overlay (ephemeral, containerDisk). */
  readonly backing?: { readonly path: string; readonly format: "raw" | "qcow2" };
  /** The file's owner and mode are not libvirt's to change (hostDisk: the user's file). */
  readonly keepOwner?: boolean;
}

export interface VolumeProvider {
  readonly kind: ProviderKind;
  /** Rejects a volume or context the provider cannot use; reads, never writes. */
  check(volume: Volume, ctx: VolumeContext): Promise<void>;
  /** Checks, then makes the disk (or finds the one an earlier call made). */
  prepare(volume: Volume, ctx: VolumeContext): Promise<PreparedDisk>;
  /** Removes what prepare created; returns the paths it removed. Safe to call again. */
  cleanup(volume: Volume, ctx: VolumeContext): Promise<string[]>;
}

export type StorageErrorCode =
  /** The volume or the context is unusable as given. */
  | "invalid"
  /** Something the volume names is not there (claim, secret, key, disk). */
  | "missing"
  /** The volume points outside where it may (a symlink out of a claim). */
  | "unsafe"
  /** What is on disk disagrees with the volume (an overlay on another backing file). */
  | "conflict"
  /** A pull from a registry failed. */
  | "pull"
  /** qemu-img failed. */
  | "tool"
  | "io";

/** `Cannot prepare volume "NAME": reason`, with the underlying error as cause. */
export class StorageError extends Error {
  constructor(
    readonly volume: string,
    readonly code: StorageErrorCode,
    readonly reason: string,
    options?: { cause?: unknown; action?: "prepare" | "clean up" | "import"; subject?: "volume" | "DataVolume" },
  ) {
    super(`Cannot ${options?.action ?? "prepare"} ${options?.subject ?? "volume"} "${volume}": ${reason}`, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = "StorageError";
  }
}

/** The domain converter's view of a prepared disk. */
export function toPreparedVolume(disk: PreparedDisk): PreparedVolume {
  return disk.block
    ? { kind: "block", path: disk.path, readOnly: disk.readOnly }
    : {
        kind: "file",
        path: disk.path,
        format: disk.format,
        readOnly: disk.readOnly,
        ...(disk.backing !== undefined ? { backing: { ...disk.backing } } : {}),
        ...(disk.keepOwner === true ? { keepOwner: true } : {}),
      };
}

/**
 * A volume name is part of file names in the state directory: it must be a
 * DNS-1123 label (as admission already demands of disk names).
 */
export function checkVolumeName(volume: Volume): void {
  const name = volume.name;
  if (typeof name !== "string" || !isDns1123Label(name)) {
    throw new StorageError(String(name), "invalid", `the name "${String(name)}" is not a DNS-1123 label (lower-case letters, digits and "-", at most 63)`);
  }
}
