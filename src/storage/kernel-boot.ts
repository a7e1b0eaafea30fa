/**
 * kernelBoot from a container image (KubeVirt's firmware.kernelBoot.container):
 * the kernel and initrd are single files of an image, pulled through the node
 * cache like a containerDisk and copied into the VM's state directory, where
 * QEMU reads them.
 */
import { copyFile } from "node:fs/promises";
import { pathUnder, removeUnder } from "../paths/index.ts";
import type { VmiSpec } from "../api/v1/vmi.ts";
import { kernelBootFileName } from "../domain/firmware-facts.ts";
import { readPullSecret } from "./container-disk-provider.ts";
import { StorageError, type VolumeContext } from "./provider.ts";
import { pullDisk, type PullOptions } from "./registry/index.ts";

export interface PreparedKernelBoot {
  kernel: string;
  initrd?: string;
  /** Removes the copies from the state directory. */
  cleanup(): Promise<void>;
}

/** Label used in errors, as storage errors name a volume. */
const owner = "kernelBoot";

export async function prepareKernelBoot(spec: VmiSpec, ctx: VolumeContext): Promise<PreparedKernelBoot | null> {
  const c = spec.domain.firmware?.kernelBoot?.container;
  if (c === undefined) return null;
  if (c.kernelPath === undefined) throw new StorageError(owner, "invalid", "kernelBoot.container has no kernelPath; booting an initrd alone is not supported");
  const settings = ctx.registry;
  if (settings === undefined) throw new StorageError(owner, "invalid", `no registry settings to pull "${c.image}" with`);
  const pullSecret = await readPullSecret(owner, c.imagePullSecret, ctx);
  const options = (path: string): PullOptions => ({
    cacheDir: settings.cacheDir,
    path,
    ...(settings.defaultRegistry !== undefined ? { defaultRegistry: settings.defaultRegistry } : {}),
    ...(settings.insecureRegistries !== undefined ? { insecureRegistries: settings.insecureRegistries } : {}),
    ...(settings.caCertificates !== undefined ? { caCertificates: settings.caCertificates } : {}),
    ...(settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {}),
    ...(settings.maxDiskBytes !== undefined ? { maxDiskBytes: settings.maxDiskBytes } : {}),
    ...(pullSecret !== undefined ? { pullSecret } : {}),
    ...(settings.signal !== undefined ? { signal: settings.signal } : {}),
  });
  const made: string[] = [];
  const fetch = async (path: string, what: "kernel" | "initrd"): Promise<string> => {
    const copy = pathUnder(ctx.stateDir, kernelBootFileName(what, path));
    // Prepared before (a launcher restart, or the local run staging it from outside the pod's network): keep it.
    if (await Bun.file(copy).exists()) {
      made.push(copy);
      return copy;
    }
    const pulled = await pullDisk(c.image, options(path)).catch((cause: unknown) => {
      throw new StorageError(owner, "missing", `cannot take the ${what} "${path}" from "${c.image}": ${(cause as Error).message}`, { cause });
    });
    await copyFile(pulled.path, copy);
    made.push(copy);
    ctx.log.info(`took the ${what} from the image`, { image: c.image, path, digest: pulled.digest, bytesFetched: pulled.bytesFetched });
    return copy;
  };
  const cleanup = async (): Promise<void> => {
    for (const f of made) await removeUnder(ctx.stateDir, f);
  };
  try {
    const kernel = await fetch(c.kernelPath, "kernel");
    const initrd = c.initrdPath === undefined ? undefined : await fetch(c.initrdPath, "initrd");
    return { kernel, ...(initrd !== undefined ? { initrd } : {}), cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
