import { describe, expect, test } from "bun:test";
import { ImageError } from "./errors.ts";
import { MediaType, parseManifest } from "./manifest.ts";

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const desc = (n: string, extra: object = {}): object => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${n.repeat(64)}`, size: 3, ...extra });

describe("parseManifest", () => {
  test("OCI image manifest", () => {
    const doc = parseManifest(enc({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: desc("c"), layers: [desc("a"), desc("b")] }), undefined);
    expect(doc.kind).toBe("image");
    if (doc.kind === "image") expect(doc.layers.map((l) => l.digest.slice(7, 8))).toEqual(["a", "b"]);
  });

  test("Docker manifest list, media type from Content-Type", () => {
    const doc = parseManifest(
      enc({ schemaVersion: 2, manifests: [desc("a", { platform: { os: "linux", architecture: "arm64", variant: "v8" } })] }),
      `${MediaType.dockerList}; charset=utf-8`,
    );
    expect(doc).toMatchObject({ kind: "index", mediaType: MediaType.dockerList });
    if (doc.kind === "index") expect(doc.manifests[0]?.platform).toEqual({ os: "linux", architecture: "arm64", variant: "v8" });
  });

  test("OCI index without mediaType is recognized by its fields", () => {
    expect(parseManifest(enc({ schemaVersion: 2, manifests: [] }), "application/json").kind).toBe("index");
  });

  test("refusals", () => {
    expect(() => parseManifest(enc({ schemaVersion: 1, name: "x" }), undefined)).toThrow(/schema 1/);
    expect(() => parseManifest(new TextEncoder().encode("{"), undefined)).toThrow(/not JSON/);
    expect(() => parseManifest(enc({ schemaVersion: 2, mediaType: "application/vnd.cncf.helm.config" }), undefined)).toThrow(/not supported/);
    expect(() => parseManifest(enc({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: desc("c"), layers: [{ digest: "x" }] }), undefined)).toThrow(ImageError);
    expect(() => parseManifest(enc({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: desc("c", { size: -1 }), layers: [] }), undefined)).toThrow(/valid size/);
  });
});
