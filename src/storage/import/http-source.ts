/**
 * Opening an http(s) DataVolume source from an untrusted server: redirects
 * followed by hand under the registry puller's redirect policy (http/https
 * only, never down from https, at most a few hops, credentials only to the
 * URL's own origin), every wait for the server bounded by the stall
 * timeout (headers and each body read), the body taken as sent (no
 * transparent decompression: the importer decides what it is).
 */
import { describeSystemError } from "../../errors/system-error.ts";
import { IdleTimer, readPrefix, timedReader } from "../registry/body-reader.ts";
import type { ChunkSourceReader } from "../registry/blob.ts";
import { UnsafeResponseError } from "../registry/errors.ts";
import { formatSeconds } from "../registry/limits.ts";
import { mayCarryCredentials, redirectTarget } from "../registry/redirect-policy.ts";

/** Redirects followed for one import (CDI's importer follows Go's default of 10; fewer is plenty). */
export const MAX_IMPORT_REDIRECTS = 5;

export interface HttpSourceOptions {
  /** No byte from the server for this long (connect, headers, or body): the import fails. */
  readonly stallMs: number;
  /** `Authorization: Basic ...` for the URL's own origin (from secretRef). */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  readonly signal?: AbortSignal;
  readonly maxRedirects?: number;
}

export interface HttpSource {
  /** The URL that answered (after redirects). */
  readonly url: URL;
  /** Content-Length, when the server sent one. */
  readonly length: number | undefined;
  readonly body: ChunkSourceReader;
}

/** Why an http source cannot be imported; the message is for people and never holds credentials. */
export class HttpSourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HttpSourceError";
  }
}

const where = (url: URL): string => `${url.origin}${url.pathname}`;

export async function openHttpSource(start: URL, options: HttpSourceOptions): Promise<HttpSource> {
  const credentialOrigin = start.origin;
  const maxRedirects = options.maxRedirects ?? MAX_IMPORT_REDIRECTS;
  let current = start;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { "user-agent": "bunvirt-importer", "accept-encoding": "identity" };
    if (options.basicAuth !== undefined && mayCarryCredentials(current, credentialOrigin)) {
      headers.authorization = `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString("base64")}`;
    }
    const abort = new AbortController();
    const hopUrl = current;
    const timer = new IdleTimer(
      options.stallMs,
      () => new HttpSourceError(`"${hopUrl.host}" sent nothing for ${formatSeconds(options.stallMs)} (${where(hopUrl)})`),
      abort,
    );
    const signal = options.signal !== undefined ? AbortSignal.any([options.signal, abort.signal]) : abort.signal;
    let response: Response;
    try {
      response = await timer.race(fetch(current.href, { headers, redirect: "manual", decompress: false, signal }));
    } catch (error) {
      if (timer.error !== undefined) throw timer.error;
      if (options.signal?.aborted === true) throw new HttpSourceError(`the import was stopped`, { cause: error });
      throw new HttpSourceError(`cannot reach "${current.host}" (${where(current)}): ${describeSystemError(error)}`, { cause: error });
    }
    const answered = current;
    const body = timedReader(response.body, timer, (error) =>
      new HttpSourceError(`the connection to "${answered.host}" failed while receiving the image: ${describeSystemError(error)}`, { cause: error }));
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await body.cancel();
      if (hop >= maxRedirects) throw new HttpSourceError(`"${current.host}" redirected more than ${maxRedirects} times`);
      try {
        current = redirectTarget(current, location, "the image");
      } catch (error) {
        throw new HttpSourceError(error instanceof UnsafeResponseError ? error.message : String(error), { cause: error });
      }
      continue;
    }
    if (response.status !== 200) {
      const text = new TextDecoder().decode(await readPrefix(body, 200)).replace(/[^\x20-\x7e]+/g, " ").trim();
      throw new HttpSourceError(`"${current.host}" answered ${response.status} ${response.statusText} for ${where(current)}${text !== "" ? ` (${text})` : ""}`);
    }
    const header = response.headers.get("content-length");
    const length = header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
    return { url: current, length, body };
  }
}
