/**
 * The rules for a DataVolume source URL, in one place for admission and the
 * importer (which checks again: a manifest may reach it without admission).
 * Pure: parses, never connects.
 */
import { maxSourceUrlLength } from "../limits.ts";
import { InvalidReferenceError, parseReference, type ImageReference } from "../../storage/registry/reference.ts";

/** The http(s) URL, or the reason it is refused. */
export function parseHttpSourceUrl(text: string): { ok: true; url: URL } | { ok: false; rule: string } {
  if (text.length > maxSourceUrlLength) return { ok: false, rule: `is ${text.length} characters long; at most ${maxSourceUrlLength}` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, rule: `"${text}" is not a URL (expected http://HOST/PATH or https://HOST/PATH)` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, rule: `the scheme is "${url.protocol.replace(/:$/, "")}"; only http and https are imported` };
  }
  if (url.username !== "" || url.password !== "") {
    return { ok: false, rule: "must not carry credentials (user:password@); give them in a Secret named by secretRef" };
  }
  if (url.hostname === "") return { ok: false, rule: `"${text}" has no host` };
  return { ok: true, url };
}

export const registryScheme = "docker://";

/** The image reference of a registry source URL `docker://REF`, or the reason it is refused. */
export function parseRegistrySourceUrl(text: string, defaultRegistry?: string): { ok: true; reference: ImageReference } | { ok: false; rule: string } {
  if (text.length > maxSourceUrlLength) return { ok: false, rule: `is ${text.length} characters long; at most ${maxSourceUrlLength}` };
  if (!text.startsWith(registryScheme)) {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1];
    return {
      ok: false,
      rule: scheme === undefined ? `"${text}" must start with ${registryScheme}` : `the scheme is "${scheme}"; bunvirt imports only ${registryScheme} images (not oci-archive)`,
    };
  }
  try {
    return { ok: true, reference: parseReference(text.slice(registryScheme.length), defaultRegistry !== undefined ? { defaultRegistry } : {}) };
  } catch (error) {
    if (error instanceof InvalidReferenceError) return { ok: false, rule: `"${text}" is not an image reference: ${error.reason}` };
    throw error;
  }
}
