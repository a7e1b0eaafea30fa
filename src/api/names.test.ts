import { expect, test } from "bun:test";
import { isDns1123Label, isDns1123Subdomain, isSafeImagePath } from "./names.ts";

test("isDns1123Label", () => {
  for (const ok of ["a", "disk0", "cloud-init-disk", "a".repeat(63)]) expect(isDns1123Label(ok)).toBe(true);
  for (const bad of ["", "Disk", "-a", "a-", "a_b", "a.b", "a".repeat(64)]) expect(isDns1123Label(bad)).toBe(false);
});

test("isSafeImagePath", () => {
  for (const ok of ["/disk/a.img", "/boot/vmlinuz"]) expect(isSafeImagePath(ok)).toBe(true);
  for (const bad of ["/", "disk/a", "/disk/../etc/shadow", "/.."]) expect(isSafeImagePath(bad)).toBe(false);
});

test("isDns1123Subdomain", () => {
  for (const ok of ["a", "vm-1", "vm.example.com", "0", "a".repeat(253)]) expect(isDns1123Subdomain(ok)).toBe(true);
  for (const bad of ["", "A", "a/b", "..", ".", "a..b", ".a", "a.", "-a", "a-", "a_b", "a\u0000", "a".repeat(254), "a/../../etc"]) expect(isDns1123Subdomain(bad)).toBe(false);
});
