/**
 * The launcher's private libvirt stack and the typed libvirt client that
 * talks to it only through D-Bus (libvirt-dbus, via dbus-next).
 *
 * Design (details in each file):
 * - libvirtd, not virtqemud: Debian 12's libvirt 9.0 ships no virtqemud.
 *   LIBVIRT_DRIVER_DIR points libvirtd at a directory holding only the QEMU
 *   driver (drivers.ts), which is what virtqemud would be: ~6 MiB less RSS,
 *   a faster start, no network/nwfilter drivers touching the host.
 * - One private mount namespace per stack, kept by a tiny `sh` holder started
 *   with `unshare --mount --propagation private` that bind-mounts the state
 *   directory's run/ lib/ cache/ var-log/ log/ etc/ over /run/libvirt,
 *   /var/lib/libvirt, /var/cache/libvirt, /var/log (swtpm's logs: swtpm.ts),
 *   /var/log/libvirt, /etc/libvirt and (emulation) a
 *   root-only empty file over /dev/kvm (holder-script.ts, namespace.ts).
 *   Every daemon runs in the foreground as our direct child through
 *   `nsenter -t <holder> -m --` (nsenter execs, so we hold the daemon's pid
 *   and its exit status) — supervision without pid-file polling. If the
 *   holder dies, a new one rejoins the namespace through any survivor; if
 *   our process dies, the holder sees EOF on stdin and kills everything left
 *   in the namespace. The namespace (and so every mount) ends with its last
 *   process: nothing to unmount, nothing visible outside.
 * - The bus socket and the daemons' sockets sit in the state directory, so
 *   the Bun process reaches them without entering the namespace.
 */
export { startLibvirtStack, type LibvirtStack, type LibvirtStackOptions, type StackLayout } from "./stack.ts";
export {
  LibvirtClient,
  type DomainEvent,
  type DomainHandle,
  type DomainState,
  type LibvirtClientOptions,
  type TransportFactory,
} from "./client.ts";
export { openBus, type DbusMethodCall, type DbusSignal, type DbusTransport, type OpenBusOptions } from "./bus.ts";
export { DbusCallError, LibvirtClientError } from "./errors.ts";
export type { DomainEventType, DomainStateName } from "./events.ts";
export type { ComponentName, ComponentState, ComponentStatus, DaemonName, StackHealth } from "./status.ts";
export type { StackPaths } from "./paths.ts";
export type { StackVersions } from "./versions.ts";
export type { RestartPolicy } from "../../retry/backoff.ts";
export { CAPABILITY_CACHE_ROOT, defaultCapabilityCacheSeed } from "./capability-cache.ts";
export { DEFAULT_DRIVERS } from "./drivers.ts";
export { processAlive, processStartTime, rssKiB } from "./processes.ts";
