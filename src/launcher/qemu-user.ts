/** The account libvirt runs QEMU as (Debian: libvirt-qemu), so files QEMU creates can be placed for it. */
import { readFileSync } from "node:fs";

/** Parses /etc/passwd text for a user's uid and gid. */
export function lookupUser(passwd: string, name: string): { uid: number; gid: number } | null {
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return null;
}

export function qemuUser(): { uid: number; gid: number } {
  return lookupUser(readFileSync("/etc/passwd", "utf8"), "libvirt-qemu") ?? { uid: 0, gid: 0 };
}
