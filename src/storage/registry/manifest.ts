/**
 * Manifest resolution: fetches a manifest (by tag or digest) with the Accept
 * types of OCI and Docker schema 2, verifies its digest, and parses it into
 * either an index (multi-platform) or an image manifest.
 */
import { readCapped } from "./body-reader.ts";
import { DigestMismatchError, ImageError } from "./errors.ts";
import { formatBytes, MAX_MANIFEST_BYTES } from "./limits.ts";
import { digestProblem } from "./reference.ts";
import type { RegistryClient } from "./registry-client.ts";

export const MediaType = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
} as const;

export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerList,
  MediaType.dockerManifest,
];

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Readonly<Record<string, string>>;
}

export type ManifestDocument =
  | { readonly kind: "index"; readonly mediaType: string; readonly manifests: readonly Descriptor[] }
  | { readonly kind: "image"; readonly mediaType: string; readonly config: Descriptor; readonly layers: readonly Descriptor[] };

export interface FetchedManifest {
  readonly digest: string;
  readonly bytes: Uint8Array;
  readonly document: ManifestDocument;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw new ImageError("invalid-image", `${where} is not an object`);
  const { mediaType, digest, size, platform, annotations } = value;
  if (typeof mediaType !== "string" || mediaType === "") throw new ImageError("invalid-image", `${where} has no mediaType`);
  if (typeof digest !== "string") throw new ImageError("invalid-image", `${where} has no digest`);
  const problem = digestProblem(digest);
  if (problem !== null) throw new ImageError("invalid-image", `${where}: ${problem}`);
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new ImageError("invalid-image", `${where} has no valid size`);
  }
  let parsedPlatform: Platform | undefined;
  if (isObject(platform)) {
    const { os, architecture, variant } = platform;
    if (typeof os === "string" && typeof architecture === "string") {
      parsedPlatform = typeof variant === "string" && variant !== "" ? { os, architecture, variant } : { os, architecture };
    }
  }
  const parsedAnnotations: Record<string, string> = {};
  if (isObject(annotations)) {
    for (const [k, v] of Object.entries(annotations)) if (typeof v === "string") parsedAnnotations[k] = v;
  }
  return {
    mediaType,
    digest,
    size,
    ...(parsedPlatform !== undefined ? { platform: parsedPlatform } : {}),
    ...(Object.keys(parsedAnnotations).length > 0 ? { annotations: parsedAnnotations } : {}),
  };
}

/**
 * Parses manifest bytes. The media type is the document's own `mediaType`
 * field, else the Content-Type the registry sent.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ManifestDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ImageError("invalid-image", `the manifest is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!isObject(doc)) throw new ImageError("invalid-image", "the manifest is not a JSON object");
  const declared = typeof doc.mediaType === "string" && doc.mediaType !== "" ? doc.mediaType : undefined;
  const header = contentType?.split(";")[0]?.trim();
  let mediaType = declared ?? header ?? "";
  if (doc.schemaVersion === 1 || mediaType.startsWith("application/vnd.docker.distribution.manifest.v1")) {
    throw new ImageError("unsupported", "Docker schema 1 manifests are not supported (push the image again with a current tool)");
  }
  if (doc.schemaVersion !== 2) throw new ImageError("invalid-image", `the manifest has schemaVersion ${String(doc.schemaVersion)}, expected 2`);
  // OCI allows omitting mediaType; tell index from manifest by its fields.
  if (mediaType === "" || mediaType === "application/json" || mediaType === "application/octet-stream") {
    mediaType = Array.isArray(doc.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
  }
  switch (mediaType) {
    case MediaType.ociIndex:
    case MediaType.dockerList: {
      if (!Array.isArray(doc.manifests)) throw new ImageError("invalid-image", "the index has no \"manifests\" list");
      const manifests = doc.manifests.map((d, i) => parseDescriptor(d, `manifests[${i}]`));
      return { kind: "index", mediaType, manifests };
    }
    case MediaType.ociManifest:
    case MediaType.dockerManifest: {
      const config = parseDescriptor(doc.config, "config");
      if (!Array.isArray(doc.layers)) throw new ImageError("invalid-image", "the manifest has no \"layers\" list");
      const layers = doc.layers.map((d, i) => parseDescriptor(d, `layers[${i}]`));
      return { kind: "image", mediaType, config, layers };
    }
    default:
      throw new ImageError("unsupported", `manifest media type "${mediaType}" is not supported (expected OCI or Docker schema 2)`);
  }
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
}

/**
 * GETs `manifests/<reference>`. With `expectedDigest` (a pinned reference or
 * a descriptor from an index) the bytes must hash to it; otherwise their hash
 * is the digest, and must agree with Docker-Content-Digest when sent.
 */
export async function fetchManifest(client: RegistryClient, reference: string, expectedDigest?: string): Promise<FetchedManifest> {
  const response = await client.get(`manifests/${reference}`, { accept: MANIFEST_ACCEPT, what: `the manifest "${reference}"` });
  const tooLarge = (): ImageError =>
    new ImageError("invalid-image", `the manifest "${reference}" is larger than ${formatBytes(MAX_MANIFEST_BYTES)}, the most a manifest may be`);
  const declaredLength = Number(response.headers.get("content-length") ?? "0");
  if (declaredLength > MAX_MANIFEST_BYTES) {
    await response.body.cancel();
    throw tooLarge();
  }
  const bytes = await readCapped(response.body, MAX_MANIFEST_BYTES, tooLarge);
  const actual = sha256Digest(bytes);
  if (expectedDigest !== undefined && actual !== expectedDigest) {
    throw new DigestMismatchError(`manifest "${reference}"`, expectedDigest, actual);
  }
  const header = response.headers.get("docker-content-digest");
  if (expectedDigest === undefined && header !== null && header.startsWith("sha256:") && header !== actual) {
    throw new DigestMismatchError(`manifest "${reference}"`, header, actual, " (Docker-Content-Digest disagrees with the bytes received)");
  }
  const document = parseManifest(bytes, response.headers.get("content-type") ?? undefined);
  return { digest: actual, bytes, document };
}
