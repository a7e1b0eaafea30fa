/** Error types of the registry disk provider. */

export type PullErrorCode =
  | "invalid-reference"
  | "invalid-options"
  | "unauthorized"
  | "not-found"
  | "registry"
  | "network"
  | "timeout"
  | "digest-mismatch"
  | "unsupported"
  | "no-disk"
  | "multiple-disks"
  | "invalid-image"
  | "io"
  | "aborted";

/** `Cannot pull "REF": reason`, with the underlying error as `cause`. */
export class PullError extends Error {
  constructor(
    readonly reference: string,
    readonly code: PullErrorCode,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Cannot pull "${reference}": ${reason}`, options);
    this.name = "PullError";
  }
}

/** A blob or manifest whose bytes do not hash to the digest that named it. */
export class DigestMismatchError extends Error {
  constructor(
    readonly what: string,
    readonly expected: string,
    readonly actual: string,
    detail = "",
  ) {
    super(`${what} failed verification: expected digest "${expected}", got "${actual}"${detail}`);
    this.name = "DigestMismatchError";
  }
}

/** A non-success answer of the registry (or its token server). */
export class RegistryHttpError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly registryCode: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "RegistryHttpError";
  }
}

/** The registry (or its token server) could not be reached at all. */
export class RegistryUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RegistryUnreachableError";
  }
}

/** Anything the image itself gets wrong (bad manifest, no disk, bad tar, ...). */
export class ImageError extends Error {
  constructor(
    readonly code: "no-disk" | "multiple-disks" | "invalid-image" | "unsupported",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ImageError";
  }
}

/** No data arrived for the idle timeout while waiting for an answer or a body. */
export class RegistryTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RegistryTimeoutError";
  }
}

/** A response the puller will not act on: a redirect it must not follow, a body over its cap. */
export class UnsafeResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsafeResponseError";
  }
}
