/**
 * Network sysctls of the current namespace, read and written through
 * /proc/sys (the values under net/ are per network namespace).
 */
import { readFile, writeFile } from "node:fs/promises";

const path = (key: string): string => `/proc/sys/${key.replace(/\./g, "/")}`;

export async function readSysctl(key: string): Promise<string> {
  try {
    return (await readFile(path(key), "utf8")).trim();
  } catch (cause) {
    throw new Error(`Cannot read sysctl "${key}": ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export async function writeSysctl(key: string, value: string): Promise<void> {
  try {
    await writeFile(path(key), `${value}\n`);
  } catch (cause) {
    throw new Error(`Cannot set sysctl "${key}" to "${value}": ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
