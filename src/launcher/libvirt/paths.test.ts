import { describe, expect, test } from "bun:test";
import { bindMounts, busAddress, checkPodMounts, checkStackPaths, domainPidFile, escapeDbusAddressValue, stackPaths } from "./paths.ts";

describe("stackPaths", () => {
  test("everything lives below the state directory", () => {
    const p = stackPaths("/var/run/vm-1");
    for (const value of Object.values(p)) expect(String(value).startsWith("/var/run/vm-1")).toBe(true);
    expect(p.libvirtdSocket).toBe("/var/run/vm-1/run/libvirt-sock");
    expect(p.capabilities).toBe("/var/run/vm-1/cache/qemu/capabilities");
    expect(domainPidFile(p, "vm")).toBe("/var/run/vm-1/run/qemu/vm.pid");
  });

  test("bind mounts cover the libvirt system paths; /dev/kvm only with emulation", () => {
    const p = stackPaths("/s");
    expect(bindMounts(p, false).map((m) => m.target)).toEqual(["/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log", "/var/log/libvirt", "/etc/libvirt"]);
    const kvm = bindMounts(p, true).at(-1)!;
    expect(kvm).toEqual({ source: "/s/kvm-mask", target: "/dev/kvm", kind: "file" });
  });

  test("bus address escapes bytes outside the D-Bus safe set", () => {
    expect(escapeDbusAddressValue("/tmp/a b,c=d")).toBe("/tmp/a%20b%2cc%3dd");
    expect(busAddress(stackPaths("/tmp/x"))).toBe("unix:path=/tmp/x/dbus/bus");
  });

  test("checkStackPaths refuses relative and too long directories", () => {
    expect(checkStackPaths(stackPaths("/tmp/ok"))).toBeNull();
    expect(checkStackPaths(stackPaths("relative"))).toContain("not absolute");
    expect(checkStackPaths(stackPaths(`/tmp/${"x".repeat(120)}`))).toContain("unix socket allows");
  });
});

describe("checkPodMounts (the pod layout)", () => {
  const mounts = bindMounts(stackPaths("/s"), false);
  const same = mounts.flatMap((_, i) => [`1:${i}`, `1:${i}`]);
  test("every system path the stack's own directory, /dev/kvm absent: fine", () => {
    expect(checkPodMounts(mounts, same, false)).toBeNull();
  });
  test("a system path that is another directory, or missing, names the mount", () => {
    const other = [...same];
    other[3] = "1:99";
    expect(checkPodMounts(mounts, other, false)).toBe(`"/var/lib/libvirt" is not "/s/lib" (the pod must mount that directory of the state volume there)`);
    const missing = [...same];
    missing[0] = null as unknown as string;
    expect(checkPodMounts(mounts, missing, false)).toContain(`"/run/libvirt" is not "/s/run"`);
  });
  test("emulation with /dev/kvm present cannot hide it without a mount namespace", () => {
    expect(checkPodMounts(mounts, same, true)).toContain("emulation is on");
  });
});
