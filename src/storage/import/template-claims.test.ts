import { expect, test } from "bun:test";
import type { DataVolumeTemplate } from "../../api/v1/data-volume.ts";
import { defaultClaimPath, templateImports, templateSize } from "./template-claims.ts";

const t = (name: string, storage: string, pvc = false): DataVolumeTemplate => ({
  metadata: { name },
  spec: { source: { blank: {} }, ...(pvc ? { pvc: { resources: { requests: { storage } } } } : { storage: { resources: { requests: { storage } } } }) },
});

test("the size is the claim's requested storage, from storage or pvc", () => {
  expect(templateSize(t("a", "1Gi"))).toBe(2 ** 30);
  expect(templateSize(t("a", "512Mi", true))).toBe(512 * 2 ** 20);
  expect(() => templateSize({ metadata: { name: "a" }, spec: { source: { blank: {} }, storage: {} } })).toThrow(/gives no size/);
});

test("a template imports into the claim mounted under its name, else into its own directory under the claims root", () => {
  const targets = templateImports([t("root-dv", "1Gi"), t("data", "2Gi")], "ns1", { data: { path: "/mnt/data", capacity: 4 * 2 ** 30 } }, "/var/lib/bunvirt/claims");
  expect(targets).toEqual([
    { name: "root-dv", source: { blank: {} }, sizeBytes: 2 ** 30, claim: { path: "/var/lib/bunvirt/claims/ns1/root-dv", capacity: 2 ** 30 } },
    { name: "data", source: { blank: {} }, sizeBytes: 2 * 2 ** 30, claim: { path: "/mnt/data", capacity: 4 * 2 ** 30 } },
  ]);
});

test("a name that would leave the claims root is refused", () => {
  expect(() => defaultClaimPath("/claims", "..", "x")).toThrow();
  expect(() => defaultClaimPath("/claims", "ns", "a/b")).toThrow();
});
