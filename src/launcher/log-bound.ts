/**
 * Size bound for the logs QEMU and libvirtd append to directly. The stack
 * runs no virtlogd (qemu.conf `stdio_handler = "file"`, see
 * libvirt/config.ts), so nothing caps the serial console log or the domain's
 * QEMU log: a guest printing without end would fill the state volume. This
 * keeps each under `maxBytes`, as virtlogd's max_size did: when a file grows
 * past it, its content is copied to FILE.1 (the one before is dropped) and
 * the file is cut to zero. The writers opened it with O_APPEND, so they go
 * on writing at the new end; what arrives between the copy and the cut is lost.
 *
 * The files sit in directories QEMU's user can write, so a file is opened
 * with O_NOFOLLOW and cut only when it is a regular file with one link (never
 * a planted symlink or hard link to something else), and FILE.1 is made anew
 * with O_EXCL.
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readdirSync, readSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

/** virtlogd's default max_size. */
export const DEFAULT_LOG_MAX_BYTES = 2 * 1024 * 1024;

export interface LogBoundOptions {
  readonly maxBytes?: number;
  /** How often the files are looked at. Default 2 s. */
  readonly intervalMs?: number;
  readonly log?: (line: string) => void;
}

/** Cuts `file` when it is larger than `maxBytes`; true when it did. Throws on a file it must not touch. */
export function trimLog(file: string, maxBytes: number): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new Error(`Cannot bound log "${file}": ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.nlink !== 1) throw new Error(`Cannot bound log "${file}": not a regular file with one link`);
    if (st.size <= maxBytes) return false;
    copyToBackup(fd, `${file}.1`, maxBytes);
    // Through the fd that was checked, never the path, which may have changed since.
    ftruncateSync(fd, 0);
    return true;
  } finally {
    closeSync(fd);
  }
}

/** The last `maxBytes` of the file open at `fd` into a new `backup`. */
function copyToBackup(fd: number, backup: string, maxBytes: number): void {
  try {
    unlinkSync(backup);
  } catch {
    // none yet
  }
  const out = openSync(backup, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o640);
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(64 * 1024);
    for (let pos = Math.max(0, size - maxBytes); pos < size; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n === 0) break;
      writeSync(out, buf, 0, n);
      pos += n;
    }
  } finally {
    closeSync(out);
  }
}

/** Keeps the files `files()` names (looked up at every round) under the bound until stop(). */
export function boundLogs(files: () => readonly string[], opts: LogBoundOptions = {}): { stop(): void } {
  const maxBytes = opts.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
  const complained = new Set<string>();
  const timer = setInterval(() => {
    for (const file of files()) {
      try {
        if (trimLog(file, maxBytes)) opts.log?.(`log: "${file}" passed ${maxBytes} bytes; its last part is in "${file}.1", the file starts again`);
      } catch (e) {
        if (!complained.has(file)) opts.log?.((e as Error).message);
        complained.add(file);
      }
    }
  }, opts.intervalMs ?? 2_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The files `*.log` in `dir` (libvirtd's domain logs), none when it is missing. */
export function logsIn(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith(".log")).map((n) => join(dir, n));
  } catch {
    return [];
  }
}
