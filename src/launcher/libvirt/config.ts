/**
 * The configuration files a private libvirt stack writes into its state
 * directory. Pure: every function returns file contents.
 */
import { escapeDbusAddressValue } from "./paths.ts";

/**
 * libvirtd.conf (bound at /etc/libvirt/libvirtd.conf): root-only sockets
 * without polkit (the only clients are our libvirt-dbus and virsh as root
 * inside the namespace), warnings and errors on stderr, which the supervisor
 * forwards to the stack log.
 */
export function libvirtdConf(): string {
  return [
    "# Written by bunvirt for a private libvirt stack; regenerated at each start.",
    'unix_sock_group = "root"',
    'unix_sock_ro_perms = "0700"',
    'unix_sock_rw_perms = "0700"',
    'unix_sock_admin_perms = "0700"',
    'auth_unix_ro = "none"',
    'auth_unix_rw = "none"',
    'log_outputs = "3:stderr"',
    // One client (libvirt-dbus): a few workers, started when needed, instead of 5-20 idle threads.
    "min_workers = 1",
    "max_workers = 5",
    "prio_workers = 1",
    "admin_min_workers = 1",
    "admin_max_workers = 1",
    "",
  ].join("\n");
}

/**
 * qemu.conf (bound at /etc/libvirt/qemu.conf).
 *
 * - `namespaces = [ ]`: no per-domain /dev namespace. With /dev/kvm masked by
 *   a bind-mounted file, libvirt fails to recreate /dev/kvm in that namespace.
 * - `cgroup_controllers = [ ]`: the launcher's pod cgroup is the VM's; libvirt
 *   must not build /machine/qemu-<id>-<name> groups, which would also clash
 *   between two stacks on one machine (both number their first domain 1).
 * - `security_driver = "none"`: no AppArmor/SELinux profile loading from inside
 *   a pod; DAC (QEMU as the unprivileged libvirt-qemu user) stays on.
 * - `stdio_handler = "file"`: QEMU opens the serial console's `<log file=…>`
 *   itself and libvirtd writes the domain's QEMU log, so no virtlogd runs
 *   (16-17 MiB RSS); their size is bounded by the launcher (log-bound.ts).
 * - `swtpm_user`/`swtpm_group`: swtpm (devices.tpm) runs as QEMU's own
 *   account, by number (its primary group is kvm on a host, libvirt-qemu in
 *   the image; libvirt's default user, tss, is made only by swtpm-tools'
 *   install script), so QEMU reaches swtpm's socket as its owner.
 */
export function qemuConf(swtpm: { uid: number; gid: number }): string {
  return [
    "# Written by bunvirt for a private libvirt stack.",
    "namespaces = [ ]",
    "cgroup_controllers = [ ]",
    'security_driver = "none"',
    "remember_owner = 0",
    'stdio_handler = "file"',
    `swtpm_user = "+${swtpm.uid}"`,
    `swtpm_group = "+${swtpm.gid}"`,
    "",
  ].join("\n");
}

/** The client-side libvirt.conf (read by libvirt-dbus inside the namespace): empty, defaults. */
export function libvirtClientConf(): string {
  return "# Written by bunvirt: client defaults.\n";
}

function xmlEscape(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/**
 * A minimal session-bus configuration for the private bus. Unlike the stock
 * session.conf it has no <servicedir>: nothing gets auto-activated (the stock
 * org.libvirt.service would start a second, unsupervised libvirt-dbus), and
 * no <pidfile>. Only root connects (EXTERNAL auth on a 0700 directory).
 */
export function dbusConf(socketPath: string): string {
  const address = xmlEscape(`unix:path=${escapeDbusAddressValue(socketPath)}`);
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- Written by bunvirt for a private libvirt stack. -->
<busconfig>
  <type>session</type>
  <listen>${address}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}
