/** The puller's options from the node's registry settings: one home for what containerDisk and registry imports share. */
import type { RegistrySettings } from "./provider.ts";
import type { PullOptions } from "./registry/index.ts";

export function pullOptionsOf(settings: RegistrySettings): PullOptions {
  return {
    cacheDir: settings.cacheDir,
    ...(settings.defaultRegistry !== undefined ? { defaultRegistry: settings.defaultRegistry } : {}),
    ...(settings.insecureRegistries !== undefined ? { insecureRegistries: settings.insecureRegistries } : {}),
    ...(settings.caCertificates !== undefined ? { caCertificates: settings.caCertificates } : {}),
    ...(settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {}),
    ...(settings.maxDiskBytes !== undefined ? { maxDiskBytes: settings.maxDiskBytes } : {}),
    ...(settings.signal !== undefined ? { signal: settings.signal } : {}),
  };
}
