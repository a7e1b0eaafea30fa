/**
 * The namespace holder: a tiny `sh` that lives in the stack's private mount
 * namespace for as long as the stack runs. Every daemon is started with
 * `nsenter -t <holder pid> -m -- …`, so they all share one view in which our
 * state directories sit over /run/libvirt, /var/lib/libvirt, … and /dev/kvm is
 * hidden. Pure: builds argv and the script text.
 *
 * Lifecycle: the holder reads its stdin (a pipe from the supervising Bun
 * process) until EOF. EOF means the stack stopped or its process died; then
 * the holder terminates every process left in its namespace (the daemons,
 * QEMU), so a crashed launcher leaves nothing behind. It refuses to run (and
 * so to kill anything) in the mount namespace of PID 1.
 */
import type { BindMount } from "./paths.ts";

/** First line the holder prints once ready: "bunvirt-holder-ready <pid> mnt:[<inode>]". */
export const HOLDER_READY = "bunvirt-holder-ready";

const PRELUDE = `set -eu
ns=$(readlink /proc/$$/ns/mnt)
if [ "$ns" = "$(readlink /proc/1/ns/mnt)" ]; then
  echo "bunvirt-holder: not in a private mount namespace" >&2
  exit 1
fi
`;

/**
 * Kills what is left in the namespace: TERM, up to 5 s grace, then KILL.
 * `collect` runs in the holder shell itself (no subshell), so the list never
 * holds a helper process of its own; `-ef` compares the namespaces' inodes
 * without a `readlink` per process (the stop waited 0.1 s for those forks).
 */
const CLEANUP = `
collect() {
  left=""
  for d in /proc/[0-9]*; do
    p=\${d#/proc/}
    [ "$p" = "$$" ] && continue
    if [ "$d/ns/mnt" -ef "/proc/$$/ns/mnt" ]; then left="$left $p"; fi
  done
}
collect
[ -z "$left" ] || kill -TERM $left 2>/dev/null || true
i=0
while [ $i -lt 50 ]; do
  collect
  [ -z "$left" ] && exit 0
  sleep 0.1
  i=$((i + 1))
done
kill -KILL $left 2>/dev/null || true
exit 0
`;

/**
 * Script for a holder that creates the namespace: positional parameters are
 * (source, target, kind) triples. Directory targets are created if missing;
 * file targets (the /dev/kvm mask) are only bound when they exist.
 */
export function createHolderScript(): string {
  return `${PRELUDE}
while [ $# -ge 3 ]; do
  src=$1; dst=$2; kind=$3; shift 3
  if [ "$kind" = dir ]; then
    mkdir -p "$dst"
    mount --bind "$src" "$dst"
  elif [ -e "$dst" ]; then
    mount --bind "$src" "$dst"
  fi
done
echo "${HOLDER_READY} $$ $ns"
while read -r _line; do :; done
${CLEANUP}`;
}

/** Script for a holder that re-joins an existing namespace (the old holder died). */
export function joinHolderScript(): string {
  return `${PRELUDE}
echo "${HOLDER_READY} $$ $ns"
while read -r _line; do :; done
${CLEANUP}`;
}

/** argv creating a fresh private mount namespace with the stack's bind mounts. */
export function createHolderArgv(mounts: readonly BindMount[]): string[] {
  const args = mounts.flatMap((m) => [m.source, m.target, m.kind]);
  return ["unshare", "--mount", "--propagation", "private", "sh", "-c", createHolderScript(), "bunvirt-holder", ...args];
}

/** argv for a holder joining the mount namespace of a surviving member process. */
export function joinHolderArgv(memberPid: number): string[] {
  return ["nsenter", "-t", String(memberPid), "-m", "--", "sh", "-c", joinHolderScript(), "bunvirt-holder"];
}

/** argv running a daemon inside the namespace of the holder. */
export function inNamespaceArgv(holderPid: number, argv: readonly string[]): string[] {
  return ["nsenter", "-t", String(holderPid), "-m", "--", ...argv];
}

/** Parses the holder's ready line; null if it is not one. */
export function parseHolderReady(line: string): { pid: number; namespace: string } | null {
  const m = /^bunvirt-holder-ready (\d+) (mnt:\[\d+\])$/.exec(line.trim());
  if (!m?.[1] || !m[2]) return null;
  return { pid: Number(m[1]), namespace: m[2] };
}
