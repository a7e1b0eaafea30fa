/**
 * Connecting to a launcher's serial console socket without following a
 * symlink the launcher may plant between the check and the use (KubeVirt
 * CVE-2026-7374): the socket is opened with O_PATH|O_NOFOLLOW, the open
 * file must be a socket at exactly the checked path (the kernel's own
 * `/proc/self/fd/N` name, so no directory on the way was swapped for a
 * symlink), and the connection goes through that descriptor, never through
 * the path again. A side effect: `/proc/self/fd/N` is short, so the kubelet's
 * long pod paths stay within a socket address's 107 bytes.
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync } from "node:fs";
import { createConnection, type Socket } from "node:net";

// Linux's values; node:fs does not export O_PATH.
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;

/** Opens `path` (an absolute, already checked path) as described above; the descriptor must be closed by the caller. */
export function openSocketNoFollow(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, O_PATH | constants.O_NOFOLLOW | O_CLOEXEC);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`Cannot open console socket "${path}": ${code === "ENOENT" ? "it does not exist (the guest has no serial console yet)" : (e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isSymbolicLink()) throw new Error(`Cannot use console socket "${path}": it is a symlink`);
    if (!st.isSocket()) throw new Error(`Cannot use console socket "${path}": it is not a socket`);
    const opened = readlinkSync(`/proc/self/fd/${fd}`);
    if (opened !== path) throw new Error(`Cannot use console socket "${path}": it resolves to "${opened}" (a symlink on the way)`);
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** A stream connection to the console socket at `path` (see openSocketNoFollow). */
export function connectConsoleSocket(path: string, timeoutMs = 5000): Promise<Socket> {
  const fd = openSocketNoFollow(path);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path: `/proc/self/fd/${fd}` });
    const done = (error: Error | null): void => {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("error", onError);
      closeSync(fd);
      if (error === null) resolve(socket);
      else {
        socket.destroy();
        reject(error);
      }
    };
    const onConnect = (): void => done(null);
    const onError = (e: Error): void => done(new Error(`Cannot connect to console socket "${path}": ${e.message}`));
    const timer = setTimeout(() => done(new Error(`Cannot connect to console socket "${path}": no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.once("connect", onConnect);
    socket.once("error", onError);
  });
}
