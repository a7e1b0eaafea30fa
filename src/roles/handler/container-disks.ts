/**
 * Container disks in the cluster: the handler pulls them, the launcher never
 * reaches a registry. The handler (on the node's network, with the node's
 * registry settings) pulls each containerDisk image into the launcher pod's
 * own state volume (`<state>/container-disks`, where the launcher role looks
 * for its cache) and syncs the VMI with the image pinned to the digest it
 * pulled; the launcher finds the digest in its cache and fetches nothing.
 *
 * With a node cache (`--disk-cache`, the handler's own directory), each
 * image is pulled there once per digest (pulls of the same disk at the same
 * time share one fetch) and copied into each pod's cache. The pod's cache is
 * still its own copy, never a link or a shared mount, so no launcher can
 * poison a disk another VM uses (DESIGN.md, "Where container disks are
 * pulled").
 */
import { mkdir } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { DiskCache, pullDisk, type PullOptions } from "../../storage/registry/index.ts";
import type { Vmi } from "../controller/model.ts";
import { objectOf, type LogFn } from "../../log/logger.ts";
import { assertUnder } from "../../paths/index.ts";

export interface RegistrySettings {
  defaultRegistry?: string;
  insecureRegistries?: readonly string[];
  /** The handler's node cache: pull there once, copy into each pod's cache. Unset: pull into each pod's cache. */
  nodeCacheDir?: string;
  /** Replaces global fetch (tests). */
  fetch?: PullOptions["fetch"];
}

/** The containerDisk images of a VMI that are not pinned to a digest yet. */
export function unpinnedImages(vmi: Vmi): string[] {
  const out = new Set<string>();
  for (const vol of vmi.spec.volumes ?? []) {
    const image = vol.containerDisk?.image;
    if (image !== undefined && !image.includes("@")) out.add(image);
  }
  return [...out];
}

/** The VMI with each containerDisk image that was pulled pinned to its digest (`image@sha256:…`). */
export function pinImages(vmi: Vmi, digests: ReadonlyMap<string, string>): Vmi {
  const out = structuredClone(vmi);
  for (const vol of out.spec.volumes ?? []) {
    const cd = vol.containerDisk;
    if (cd === undefined) continue;
    const digest = digests.get(cd.image);
    if (digest !== undefined) cd.image = `${cd.image}@${digest}`;
  }
  return out;
}

/** Pulls the VMI's unpinned container disks into `cacheDir`; returns image -> digest. */
export async function pullContainerDisks(vmi: Vmi, cacheDir: string, registry: RegistrySettings, log: LogFn): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  const images = unpinnedImages(vmi);
  if (images.length === 0) return digests;
  await mkdir(cacheDir, { recursive: true, mode: 0o755 });
  // The launcher owns the volume: the cache directory itself must not be a symlink it planted
  // (below it, DiskCache proves every path it writes).
  assertUnder(dirname(cacheDir), cacheDir);
  for (const image of images) {
    const path = vmi.spec.volumes?.find((v) => v.containerDisk?.image === image)?.containerDisk?.path;
    const options: PullOptions = {
      cacheDir: registry.nodeCacheDir ?? cacheDir,
      ...(registry.defaultRegistry !== undefined ? { defaultRegistry: registry.defaultRegistry } : {}),
      ...(registry.insecureRegistries !== undefined ? { insecureRegistries: registry.insecureRegistries } : {}),
      ...(path !== undefined ? { path } : {}),
      ...(registry.fetch !== undefined ? { fetch: registry.fetch } : {}),
    };
    const r = await pullDisk(image, options);
    let copied = "";
    if (registry.nodeCacheDir !== undefined) {
      const node = new DiskCache(registry.nodeCacheDir);
      const entry = await node.lookup(basename(dirname(r.path)));
      if (entry === null) throw new Error(`Cannot copy "${image}" into the pod's cache: the node cache has no entry at "${r.path}"`);
      await new DiskCache(cacheDir).copyFrom(entry);
      // Used now: the node cache's prune keeps it (node-cache-prune.ts).
      await node.markUsed(basename(entry.dir));
      copied = ", copied from the node cache";
    }
    log(`pulled "${image}" (${r.digest}, ${r.bytesFetched} bytes fetched${copied}) for VMI "${vmi.metadata.namespace ?? ""}/${vmi.metadata.name ?? ""}"`, objectOf("VirtualMachineInstance", vmi.metadata));
    digests.set(image, r.digest);
  }
  return digests;
}
