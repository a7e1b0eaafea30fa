/**
 * A canary directory tree for tests that feed bunvirt hostile input: files
 * and directories with distinct modes and owners, and a snapshot (path,
 * type, mode, owner, size, content hash) to compare before and after.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

export function makeCanary(dir: string): string {
  mkdirSync(join(dir, "sub", "deeper"), { recursive: true });
  writeFileSync(join(dir, "keep.txt"), "the canary lives\n");
  writeFileSync(join(dir, "sub", "secret"), "do not remove\n");
  writeFileSync(join(dir, "sub", "deeper", "data.bin"), new Uint8Array(4096).fill(7));
  symlinkSync("/etc/hostname", join(dir, "sub", "link"));
  chmodSync(join(dir, "sub", "secret"), 0o600);
  chmodSync(join(dir, "sub", "deeper"), 0o751);
  chownSync(join(dir, "sub", "deeper", "data.bin"), 4242, 4343);
  return dir;
}

/** One line per entry below `dir` (and `dir` itself), sorted. */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      out.push(`${relative(dir, p) || "."} missing`);
      return;
    }
    const kind = st.isDirectory() ? "dir" : st.isSymbolicLink() ? `link->${readlinkSync(p)}` : st.isFile() ? "file" : "other";
    const hash = st.isFile() ? new Bun.CryptoHasher("sha256").update(readFileSync(p)).digest("hex").slice(0, 16) : "";
    out.push(`${relative(dir, p) || "."} ${kind} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.isFile() ? st.size : ""} ${hash}`);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
  };
  walk(dir);
  return out.sort();
}
