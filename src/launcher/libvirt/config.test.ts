import { describe, expect, test } from "bun:test";
import { dbusConf, libvirtdConf, qemuConf } from "./config.ts";

describe("stack configuration", () => {
  test("qemu.conf disables per-domain namespaces and cgroups, and needs no virtlogd", () => {
    const conf = qemuConf({ uid: 64055, gid: 108 });
    expect(conf).toContain("namespaces = [ ]");
    expect(conf).toContain("cgroup_controllers = [ ]");
    expect(conf).toContain('stdio_handler = "file"');
  });

  test("qemu.conf runs swtpm as the account given (QEMU's), by number", () => {
    expect(qemuConf({ uid: 64055, gid: 108 })).toContain('swtpm_user = "+64055"\nswtpm_group = "+108"\n');
  });

  test("libvirtd.conf: root-only sockets without polkit, logs on stderr", () => {
    const conf = libvirtdConf();
    expect(conf).toContain('unix_sock_rw_perms = "0700"');
    expect(conf).toContain('auth_unix_rw = "none"');
    expect(conf).toContain('log_outputs = "3:stderr"');
  });

  test("the bus config listens on the escaped socket and activates nothing", () => {
    const conf = dbusConf("/tmp/a&b/dbus/bus");
    expect(conf).toContain("<listen>unix:path=/tmp/a%26b/dbus/bus</listen>");
    expect(conf).not.toContain("servicedir");
    expect(conf).not.toContain("pidfile");
    expect(conf).toContain("<auth>EXTERNAL</auth>");
  });
});
