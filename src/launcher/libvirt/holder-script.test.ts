import { describe, expect, test } from "bun:test";
import { createHolderArgv, inNamespaceArgv, joinHolderArgv, parseHolderReady } from "./holder-script.ts";

describe("namespace holder", () => {
  test("create argv: unshare a private mount namespace, mounts as positional triples", () => {
    const argv = createHolderArgv([
      { source: "/s/run", target: "/run/libvirt", kind: "dir" },
      { source: "/s/kvm-mask", target: "/dev/kvm", kind: "file" },
    ]);
    expect(argv.slice(0, 5)).toEqual(["unshare", "--mount", "--propagation", "private", "sh"]);
    expect(argv.slice(-7)).toEqual(["bunvirt-holder", "/s/run", "/run/libvirt", "dir", "/s/kvm-mask", "/dev/kvm", "file"]);
    const script = argv[6]!;
    expect(script).toContain('mount --bind "$src" "$dst"');
    expect(script).toContain("readlink /proc/1/ns/mnt");
  });

  test("join argv enters the namespace of a surviving member", () => {
    expect(joinHolderArgv(42).slice(0, 6)).toEqual(["nsenter", "-t", "42", "-m", "--", "sh"]);
    expect(inNamespaceArgv(7, ["libvirtd", "-p", "x"])).toEqual(["nsenter", "-t", "7", "-m", "--", "libvirtd", "-p", "x"]);
  });

  test("ready line parsing", () => {
    expect(parseHolderReady("bunvirt-holder-ready 123 mnt:[4026532177]")).toEqual({ pid: 123, namespace: "mnt:[4026532177]" });
    expect(parseHolderReady("something else")).toBeNull();
  });
});
