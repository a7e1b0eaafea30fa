/**
 * What a binding must remember across a launcher restart: the pod
 * interface as it was before the binding changed it, the sysctls it
 * flipped, the MAC it chose. One JSON file per pod interface, written
 * before the first change (so a crash mid-setup can still be undone) and
 * removed by teardown. Written atomically (temporary file + rename).
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const defaultStateDir = "/var/run/bunvirt/network";

export function statePath(stateDir: string, podInterface: string): string {
  return join(stateDir, `pod-${podInterface}.json`);
}

export async function readState<T>(path: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new Error(`Cannot read binding state "${path}": ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new Error(`Cannot read binding state "${path}": not JSON`, { cause });
  }
}

export async function writeState(path: string, value: unknown): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, path);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw new Error(`Cannot write binding state "${path}": ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export async function deleteState(path: string): Promise<void> {
  await rm(path, { force: true });
}

