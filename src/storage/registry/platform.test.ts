import { describe, expect, test } from "bun:test";
import type { Descriptor } from "./manifest.ts";
import { selectPlatform } from "./platform.ts";

const d = (n: number, os: string, architecture: string, variant?: string, annotations?: Record<string, string>): Descriptor => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: 100,
  platform: variant !== undefined ? { os, architecture, variant } : { os, architecture },
  ...(annotations !== undefined ? { annotations } : {}),
});

describe("selectPlatform", () => {
  test("picks linux/amd64 by default, whatever the order", () => {
    const list = [d(1, "linux", "arm64", "v8"), d(2, "windows", "amd64"), d(3, "linux", "amd64"), d(4, "linux", "s390x")];
    expect(selectPlatform(list)).toBe(list[2] as Descriptor);
  });

  test("skips attestation manifests and entries without platform", () => {
    const attest = d(5, "linux", "amd64", undefined, { "vnd.docker.reference.type": "attestation-manifest" });
    const noPlatform: Descriptor = { mediaType: "x", digest: `sha256:${"6".repeat(64)}`, size: 1 };
    const amd = d(7, "linux", "amd64");
    expect(selectPlatform([attest, noPlatform, amd])).toBe(amd);
  });

  test("prefers the entry without variant for amd64, matches variants and aliases", () => {
    const v3 = d(1, "linux", "amd64", "v3");
    const plain = d(2, "linux", "amd64");
    expect(selectPlatform([v3, plain])).toBe(plain);
    expect(selectPlatform([v3])).toBe(v3);
    expect(selectPlatform([plain, v3], { os: "linux", architecture: "amd64", variant: "v3" })).toBe(v3);
    const arm = d(3, "linux", "aarch64");
    expect(selectPlatform([plain, arm], { os: "linux", architecture: "arm64" })).toBe(arm);
    expect(selectPlatform([plain], { os: "linux", architecture: "x86_64" })).toBe(plain);
  });

  test("explains what is available when nothing matches", () => {
    expect(() => selectPlatform([d(1, "linux", "arm64", "v8"), d(2, "linux", "ppc64le")])).toThrow(
      'the image index has no manifest for platform "linux/amd64" (it has: linux/arm64/v8, linux/ppc64le)',
    );
    expect(() => selectPlatform([])).toThrow(/it has: nothing/);
  });
});
