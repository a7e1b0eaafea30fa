/**
 * The qemu-img calls the providers make: a qcow2 overlay on a read-only
 * backing file, and an empty sparse qcow2. The binary is a parameter so
 * tests can put a failing one in its place.
 */
import { isAbsolute } from "node:path";
import { spawnOwn } from "../process/own-children.ts";

export const defaultQemuImg = "qemu-img";

export class QemuImgError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot run "${argv.join(" ")}": ${exitCode === null ? "it did not start" : `exit ${exitCode}`}${stderr.trim() !== "" ? `: ${stderr.trim()}` : ""}`, options);
    this.name = "QemuImgError";
  }
}

async function run(argv: string[], signal?: AbortSignal): Promise<string> {
  let proc;
  try {
    proc = spawnOwn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  } catch (cause) {
    throw new QemuImgError(argv, null, (cause as Error).message, { cause });
  }
  const child = proc;
  const stop = (): void => child.kill("SIGKILL");
  signal?.addEventListener("abort", stop, { once: true });
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (signal?.aborted === true) throw new QemuImgError(argv, code, `stopped: ${signal.reason instanceof Error ? signal.reason.message : "aborted"}`);
    if (code !== 0) throw new QemuImgError(argv, code, stderr);
    return stdout;
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}

/**
 * `qemu-img create -f qcow2 -F FORMAT -b BACKING PATH`: a qcow2 whose reads
 * fall through to BACKING, which QEMU only ever opens read-only. BACKING
 * must be absolute (a relative name would be read relative to PATH, and a
 * name with ":" before any "/" could be taken for a protocol).
 */
export async function createOverlay(qemuImg: string, path: string, backing: string, backingFormat: "raw" | "qcow2"): Promise<void> {
  if (!isAbsolute(backing)) throw new Error(`Cannot create an overlay on "${backing}": the backing path is not absolute`);
  await run([qemuImg, "create", "-q", "-f", "qcow2", "-F", backingFormat, "-b", backing, path]);
}

/** `qemu-img create -f qcow2 PATH BYTES`: an empty, sparse qcow2. */
export async function createEmptyQcow2(qemuImg: string, path: string, bytes: number): Promise<void> {
  await run([qemuImg, "create", "-q", "-f", "qcow2", path, String(bytes)]);
}

/**
 * `qemu-img convert -f FORMAT -O raw SRC DEST`: SRC's guest-visible bytes as
 * a sparse raw file (zeros left as holes). The caller has checked SRC's
 * header (no backing or data file) and its virtual size; `signal` kills
 * qemu-img (a deadline).
 */
export async function convertToRaw(qemuImg: string, src: string, srcFormat: "raw" | "qcow2", dest: string, signal?: AbortSignal): Promise<void> {
  if (!isAbsolute(src) || !isAbsolute(dest)) throw new Error(`Cannot convert "${src}" to "${dest}": both paths must be absolute`);
  await run([qemuImg, "convert", "-q", "-f", srcFormat, "-O", "raw", src, dest], signal);
}

export interface QemuImgInfo {
  format: string;
  "virtual-size": number;
  "backing-filename"?: string;
  "backing-filename-format"?: string;
  "full-backing-filename"?: string;
}

/** `qemu-img info --output=json PATH` (the host tier checks results with it). */
export async function qemuImgInfo(path: string, qemuImg = defaultQemuImg): Promise<QemuImgInfo> {
  return JSON.parse(await run([qemuImg, "info", "--output=json", "-U", path])) as QemuImgInfo;
}
