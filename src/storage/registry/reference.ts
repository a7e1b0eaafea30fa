/**
 * Image reference parsing, following the grammar of the distribution project
 * (`[registry/]path[:tag][@digest]`), strict: anything outside the grammar is
 * an error that says which part is wrong.
 */

export interface ImageReference {
  /** The text that was parsed, trimmed. */
  readonly original: string;
  /** Registry host, lower case, with port when given: "127.0.0.1:5000", "docker.io". */
  readonly registry: string;
  /** Repository path inside the registry: "kubevirt/cirros-registry-disk-demo". */
  readonly repository: string;
  /** Tag; "latest" when neither tag nor digest was given, undefined when only a digest was. */
  readonly tag: string | undefined;
  /** Pinned manifest digest "sha256:<64 hex>", when given. */
  readonly digest: string | undefined;
}

export interface ParseReferenceOptions {
  /** Registry for references without a host (default "docker.io"). */
  readonly defaultRegistry?: string;
}

export class InvalidReferenceError extends Error {
  constructor(
    readonly reference: string,
    readonly reason: string,
  ) {
    super(`Cannot parse image reference "${reference}": ${reason}`);
    this.name = "InvalidReferenceError";
  }
}

export const DOCKER_HUB = "docker.io";
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);
const MAX_NAME_LENGTH = 255;

const HOST_LABEL = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_RE = new RegExp(`^(?:${HOST_LABEL}(?:\\.${HOST_LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
export const SHA256_DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** True when `text` is a valid registry host[:port]. */
export function isValidRegistryHost(text: string): boolean {
  if (!DOMAIN_RE.test(text)) return false;
  const port = /:([0-9]+)$/.exec(text.startsWith("[") ? text.slice(text.indexOf("]")) : text)?.[1];
  return port === undefined || (Number(port) > 0 && Number(port) < 65536);
}

/** True when the registry names Docker Hub (which implies the "library/" namespace). */
export function isDockerHub(registry: string): boolean {
  return DOCKER_HUB_ALIASES.has(registry.toLowerCase());
}

/** Validates "sha256:<64 lower-case hex>"; returns a reason or null. */
export function digestProblem(digest: string): string | null {
  if (!DIGEST_RE.test(digest)) return `"${digest}" is not a digest (expected "sha256:" and 64 hex digits)`;
  const algorithm = digest.slice(0, digest.indexOf(":"));
  if (algorithm !== "sha256") return `digest algorithm "${algorithm}" is not supported (only sha256)`;
  if (!SHA256_DIGEST_RE.test(digest)) return `"${digest}" is not a sha256 digest (expected 64 lower-case hex digits)`;
  return null;
}

/**
 * Parses `kubevirt/cirros-registry-disk-demo:devel`, `127.0.0.1:5000/x/y:tag`,
 * `host/x@sha256:...`, `host/x:tag@sha256:...` (the digest wins).
 *
 * A first path component is a registry host when it contains "." or ":", is
 * "localhost", or has upper-case letters; otherwise the reference has no host
 * and resolves against `defaultRegistry`. On Docker Hub a one-component
 * repository gets the "library/" namespace, as docker does.
 */
export function parseReference(input: string, options: ParseReferenceOptions = {}): ImageReference {
  const original = input.trim();
  const fail = (reason: string): never => {
    throw new InvalidReferenceError(original, reason);
  };
  if (original === "") fail("the reference is empty");
  if (/\s/.test(original)) fail("it contains white space");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(original)) fail("a reference has no URL scheme (drop the \"scheme://\")");

  let rest = original;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (digest === "") fail("the digest after \"@\" is empty");
    const problem = digestProblem(digest);
    if (problem !== null) fail(problem);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (tag === "") fail("the tag after \":\" is empty");
    if (!TAG_RE.test(tag)) {
      fail(`tag "${tag}" is invalid (letters, digits, "_", "." and "-", not starting with "." or "-", at most 128)`);
    }
  }
  if (rest === "") fail("the repository name is empty");

  let registry: string;
  let path: string;
  const firstSlash = rest.indexOf("/");
  const first = firstSlash >= 0 ? rest.slice(0, firstSlash) : "";
  if (firstSlash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase())) {
    if (!isValidRegistryHost(first)) fail(`registry host "${first}" is invalid`);
    registry = first.toLowerCase();
    path = rest.slice(firstSlash + 1);
  } else {
    const fallback = (options.defaultRegistry ?? DOCKER_HUB).trim();
    if (!isValidRegistryHost(fallback)) fail(`default registry "${fallback}" is not a host[:port]`);
    registry = fallback.toLowerCase();
    path = rest;
  }

  if (path === "") fail("the repository name is empty");
  for (const component of path.split("/")) {
    if (component === "") fail(`repository "${path}" has an empty path component`);
    if (!PATH_COMPONENT_RE.test(component)) {
      const hint = component !== component.toLowerCase() ? " (repository names are lower case)" : "";
      fail(`repository component "${component}" is invalid${hint}`);
    }
  }
  if (isDockerHub(registry) && !path.includes("/")) path = `library/${path}`;
  if (registry.length + 1 + path.length > MAX_NAME_LENGTH) fail(`the name is longer than ${MAX_NAME_LENGTH} characters`);

  if (tag === undefined && digest === undefined) tag = "latest";
  return { original, registry, repository: path, tag, digest };
}

/** Canonical text: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ""}${ref.digest !== undefined ? `@${ref.digest}` : ""}`;
}
