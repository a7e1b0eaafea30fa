/**
 * Versions of libvirt and QEMU on this machine: they key the QEMU capability
 * cache seed directory. Parsing is pure; `detectVersions` runs the binaries.
 */

import { spawnOwn } from "../../process/own-children.ts";

export interface StackVersions {
  /** e.g. "9.0.0" */
  readonly libvirt: string;
  /** e.g. "7.2.22" */
  readonly qemu: string;
}

/** "libvirtd (libvirt) 9.0.0" -> "9.0.0" */
export function parseLibvirtdVersion(output: string): string | null {
  const m = /\(libvirt\)\s+(\d+\.\d+\.\d+)/.exec(output);
  return m?.[1] ?? null;
}

/** "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" -> "7.2.22" */
export function parseQemuVersion(output: string): string | null {
  const m = /QEMU emulator version (\d+\.\d+(?:\.\d+)?)/.exec(output);
  return m?.[1] ?? null;
}

async function firstLine(argv: string[]): Promise<string> {
  const proc = spawnOwn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`Cannot run "${argv.join(" ")}": exit ${code}: ${err.trim()}`);
  return out;
}

let cached: Promise<StackVersions> | null = null;

/** Runs `libvirtd --version` and `<qemu> --version` once per process. */
export function detectVersions(qemuBinary = "qemu-system-x86_64"): Promise<StackVersions> {
  cached ??= (async () => {
    const [libvirtOut, qemuOut] = await Promise.all([firstLine(["libvirtd", "--version"]), firstLine([qemuBinary, "--version"])]);
    const libvirt = parseLibvirtdVersion(libvirtOut);
    const qemu = parseQemuVersion(qemuOut);
    if (libvirt === null) throw new Error(`Cannot read the libvirt version: "libvirtd --version" printed "${libvirtOut.trim()}"`);
    if (qemu === null) throw new Error(`Cannot read the QEMU version: "${qemuBinary} --version" printed "${qemuOut.trim()}"`);
    return { libvirt, qemu };
  })();
  const result = cached;
  void result.catch(() => {
    if (cached === result) cached = null;
  });
  return result;
}
