/** Platform selection in an image index / manifest list. */
import { ImageError } from "./errors.ts";
import type { Descriptor, Platform } from "./manifest.ts";

export const DEFAULT_PLATFORM: Platform = { os: "linux", architecture: "amd64" };

const ARCH_ALIASES: Readonly<Record<string, string>> = {
  x86_64: "amd64",
  "x86-64": "amd64",
  aarch64: "arm64",
  armhf: "arm",
  armel: "arm",
  i386: "386",
  i686: "386",
};

export function normalizeArchitecture(architecture: string): string {
  const lower = architecture.toLowerCase();
  return ARCH_ALIASES[lower] ?? lower;
}

/** arm64's default variant is v8; others have none by default. */
function normalizeVariant(architecture: string, variant: string | undefined): string | undefined {
  if (variant === undefined || variant === "") return architecture === "arm64" ? "v8" : undefined;
  return variant.toLowerCase();
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant !== undefined ? `/${p.variant}` : ""}`;
}

/**
 * Picks the manifest for `wanted` from an index: same os and architecture;
 * when `wanted` names a variant it must match, otherwise an entry without
 * variant is preferred. Attestation manifests (buildkit's "unknown/unknown")
 * never match. The first of equally good entries wins.
 */
export function selectPlatform(manifests: readonly Descriptor[], wanted: Platform = DEFAULT_PLATFORM): Descriptor {
  const os = wanted.os.toLowerCase();
  const architecture = normalizeArchitecture(wanted.architecture);
  const variant = wanted.variant !== undefined ? normalizeVariant(architecture, wanted.variant) : undefined;
  let best: { d: Descriptor; score: number } | undefined;
  for (const d of manifests) {
    if (d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest") continue;
    const p = d.platform;
    if (p === undefined) continue;
    if (p.os.toLowerCase() !== os || normalizeArchitecture(p.architecture) !== architecture) continue;
    const dVariant = normalizeVariant(architecture, p.variant);
    let score: number;
    if (variant !== undefined) {
      if (dVariant !== variant) continue;
      score = 2;
    } else {
      score = dVariant === normalizeVariant(architecture, undefined) ? 2 : 1;
    }
    if (best === undefined || score > best.score) best = { d, score };
  }
  if (best === undefined) {
    const available = manifests
      .map((d) => (d.platform !== undefined ? formatPlatform(d.platform) : "no platform"))
      .join(", ");
    throw new ImageError(
      "unsupported",
      `the image index has no manifest for platform "${formatPlatform(wanted)}" (it has: ${available === "" ? "nothing" : available})`,
    );
  }
  return best.d;
}
