import { describe, expect, test } from "bun:test";
import { parseLibvirtdVersion, parseQemuVersion } from "./versions.ts";

describe("version parsing", () => {
  test("libvirtd --version", () => {
    expect(parseLibvirtdVersion("libvirtd (libvirt) 9.0.0\n")).toBe("9.0.0");
    expect(parseLibvirtdVersion("nonsense")).toBeNull();
  });

  test("qemu --version", () => {
    expect(parseQemuVersion("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright")).toBe("7.2.22");
    expect(parseQemuVersion("QEMU emulator version 8.1\n")).toBe("8.1");
    expect(parseQemuVersion("")).toBeNull();
  });
});
