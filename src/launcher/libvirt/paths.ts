/**
 * Where a private libvirt stack keeps everything: one directory per stack
 * (per VM), below which every runtime directory libvirt would otherwise put
 * under /run, /var/lib, /var/cache, /var/log and /etc lives. Pure: no
 * filesystem access.
 */
import { join } from "node:path";

/** A host directory (or file) the namespace holder bind-mounts over a system path. */
export interface BindMount {
  readonly source: string;
  readonly target: string;
  /** "file" binds (the /dev/kvm mask) only happen when the target exists. */
  readonly kind: "dir" | "file";
}

export interface StackPaths {
  readonly stateDir: string;
  /** Bound over /run/libvirt: sockets, QEMU status XML and pid files. */
  readonly run: string;
  /** Bound over /var/lib/libvirt: per-domain QEMU directories (monitor sockets). */
  readonly lib: string;
  /** Bound over /var/cache/libvirt: the QEMU capability cache. */
  readonly cache: string;
  /** Bound over /var/log/libvirt: the domains' QEMU logs (written by libvirtd and QEMU). */
  readonly log: string;
  /**
   * Bound over /var/log itself, before log/ over /var/log/libvirt: libvirtd
   * puts swtpm's logs in /var/log/swtpm, which the host need not have.
   */
  readonly varLog: string;
  /** Bound over /etc/libvirt: our generated libvirtd/qemu config and persistent domain XML. */
  readonly etc: string;
  /** Pid file of libvirtd (outside /run so two stacks never share one). */
  readonly pids: string;
  /** The private D-Bus bus: config and socket. */
  readonly dbus: string;
  readonly busSocket: string;
  readonly busConfig: string;
  /** The root-only empty file bound over /dev/kvm in emulation mode. */
  readonly kvmMask: string;
  /** Symlinks to the libvirtd connection drivers this stack loads (LIBVIRT_DRIVER_DIR). */
  readonly drivers: string;
  /** The QEMU capability cache as seen from outside the namespace. */
  readonly capabilities: string;
  /** Sockets as seen from outside the namespace (same inode as inside). */
  readonly libvirtdSocket: string;
}

/** System paths the stack hides behind its own directories. */
export const SYSTEM_PATHS = {
  run: "/run/libvirt",
  lib: "/var/lib/libvirt",
  cache: "/var/cache/libvirt",
  varLog: "/var/log",
  log: "/var/log/libvirt",
  etc: "/etc/libvirt",
  kvm: "/dev/kvm",
} as const;

export function stackPaths(stateDir: string): StackPaths {
  const run = join(stateDir, "run");
  const cache = join(stateDir, "cache");
  const dbus = join(stateDir, "dbus");
  return {
    stateDir,
    run,
    lib: join(stateDir, "lib"),
    cache,
    log: join(stateDir, "log"),
    varLog: join(stateDir, "var-log"),
    etc: join(stateDir, "etc"),
    pids: join(stateDir, "pids"),
    dbus,
    busSocket: join(dbus, "bus"),
    busConfig: join(dbus, "bus.conf"),
    kvmMask: join(stateDir, "kvm-mask"),
    drivers: join(stateDir, "drivers"),
    capabilities: join(cache, "qemu", "capabilities"),
    libvirtdSocket: join(run, "libvirt-sock"),
  };
}

/** The bind mounts making up a stack's private view, in mount order. */
export function bindMounts(paths: StackPaths, emulation: boolean): BindMount[] {
  const mounts: BindMount[] = [
    { source: paths.run, target: SYSTEM_PATHS.run, kind: "dir" },
    { source: paths.lib, target: SYSTEM_PATHS.lib, kind: "dir" },
    { source: paths.cache, target: SYSTEM_PATHS.cache, kind: "dir" },
    { source: paths.varLog, target: SYSTEM_PATHS.varLog, kind: "dir" },
    { source: paths.log, target: SYSTEM_PATHS.log, kind: "dir" },
    { source: paths.etc, target: SYSTEM_PATHS.etc, kind: "dir" },
  ];
  if (emulation) mounts.push({ source: paths.kvmMask, target: SYSTEM_PATHS.kvm, kind: "file" });
  return mounts;
}

/**
 * Null when the "pod" layout holds: for each mount (source, target), the two
 * identities (device:inode, null when missing) are the same directory, and
 * /dev/kvm is not there to hide; else what is wrong. `identities` holds the
 * source's and the target's identity of each mount, in order.
 */
export function checkPodMounts(mounts: readonly BindMount[], identities: readonly (string | null)[], kvmToHide: boolean): string | null {
  for (const [i, m] of mounts.entries()) {
    const source = identities[2 * i] ?? null;
    const target = identities[2 * i + 1] ?? null;
    if (source === null || target === null || source !== target) {
      return `"${m.target}" is not "${m.source}" (the pod must mount that directory of the state volume there)`;
    }
  }
  if (kvmToHide) return `emulation is on but "${SYSTEM_PATHS.kvm}" is present (the pod must not request the KVM device)`;
  return null;
}

/** The address of the private bus, as DBUS_SESSION_BUS_ADDRESS wants it. */
export function busAddress(paths: StackPaths): string {
  return `unix:path=${escapeDbusAddressValue(paths.busSocket)}`;
}

/** D-Bus address value escaping: bytes outside [-0-9A-Za-z_/.*] become %XX. */
export function escapeDbusAddressValue(value: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(value)) {
    const ch = String.fromCharCode(byte);
    out += /^[-0-9A-Za-z_/.*]$/.test(ch) ? ch : `%${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** Longest path a unix socket address (sun_path) holds, without the NUL. */
export const MAX_UNIX_SOCKET_PATH = 107;

/** Null when the layout works; else why not (sockets outside the namespace must fit sun_path). */
export function checkStackPaths(paths: StackPaths): string | null {
  for (const socket of [paths.busSocket, paths.libvirtdSocket]) {
    const length = new TextEncoder().encode(socket).length;
    if (length > MAX_UNIX_SOCKET_PATH) {
      return `socket path "${socket}" is ${length} bytes, more than the ${MAX_UNIX_SOCKET_PATH} a unix socket allows`;
    }
  }
  if (!paths.stateDir.startsWith("/")) return `state directory "${paths.stateDir}" is not absolute`;
  return null;
}

/** Pid file libvirtd writes for a running domain ("/run/libvirt/qemu/<name>.pid"). */
export function domainPidFile(paths: StackPaths, domainName: string): string {
  return join(paths.run, "qemu", `${domainName}.pid`);
}

/** Pid file given to a daemon with -p. */
export function daemonPidFile(paths: StackPaths, daemon: string): string {
  return join(paths.pids, `${daemon}.pid`);
}
