/**
 * Reading a key of a Secret the pod has mounted (a directory of files, the
 * keys usually symlinks into its "..data" directory). Errors name the
 * Secret and the keys tried, never the content.
 */
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { isWithin, realpathOrNull } from "./files.ts";
import { StorageError, type VolumeContext } from "./provider.ts";

/** A Secret holds at most 1 MiB. */
export const secretMaxBytes = 1024 * 1024;

export interface SecretRead {
  readonly key: string;
  readonly bytes: Uint8Array;
}

const quoted = (keys: readonly string[]): string => keys.map((k) => `"${k}"`).join(", ");

/**
 * The bytes of the first of `keys` the Secret has. `what` says what the
 * Secret is for, e.g. "user-data" or "image pull".
 */
export async function readSecretKey(volume: string, what: string, secret: string, keys: readonly string[], ctx: Pick<VolumeContext, "secrets">): Promise<SecretRead> {
  const dir = ctx.secrets[secret];
  if (dir === undefined) {
    throw new StorageError(volume, "missing", `the ${what} Secret "${secret}" is not mounted in this pod (looked for keys ${quoted(keys)})`);
  }
  const root = await realpathOrNull(dir);
  if (root === null) throw new StorageError(volume, "missing", `the ${what} Secret "${secret}" is not there at "${dir}" (looked for keys ${quoted(keys)})`);
  for (const key of keys) {
    // Follow a key's symlink into "..data", but never out of the Secret's directory.
    const real = await realpathOrNull(join(root, key));
    if (real === null) continue;
    if (!isWithin(root, real)) {
      throw new StorageError(volume, "unsafe", `key "${key}" of the ${what} Secret "${secret}" leads outside its directory "${root}"`);
    }
    const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((cause: Error) => {
      throw new StorageError(volume, "io", `cannot open key "${key}" of the ${what} Secret "${secret}"`, { cause });
    });
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new StorageError(volume, "invalid", `key "${key}" of the ${what} Secret "${secret}" is not a file`);
      if (info.size > secretMaxBytes) {
        throw new StorageError(volume, "invalid", `key "${key}" of the ${what} Secret "${secret}" is ${info.size} bytes; a Secret holds at most ${secretMaxBytes}`);
      }
      return { key, bytes: new Uint8Array(await handle.readFile()) };
    } finally {
      await handle.close();
    }
  }
  throw new StorageError(volume, "missing", `the ${what} Secret "${secret}" has none of the keys ${quoted(keys)}`);
}
