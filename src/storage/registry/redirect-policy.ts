/**
 * Where the puller may go and what it may carry there (pure, no I/O):
 * redirects only to http/https and never from https down to http;
 * credentials only to the one origin they belong to (the registry's, or
 * the token realm's), never to a redirect target elsewhere; a token realm
 * only over https, or http when the registry itself is marked insecure.
 */
import { UnsafeResponseError } from "./errors.ts";

const WEB_SCHEMES = new Set(["http:", "https:"]);

/**
 * The URL a redirect from `from` with header `Location: location` leads to;
 * throws UnsafeResponseError when it must not be followed. `what` names
 * what was being fetched, for the message.
 */
export function redirectTarget(from: URL, location: string, what: string): URL {
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw new UnsafeResponseError(`"${from.host}" redirected the request for ${what} to "${clip(location)}", which is not a URL`);
  }
  if (!WEB_SCHEMES.has(to.protocol)) {
    throw new UnsafeResponseError(
      `"${from.host}" redirected the request for ${what} to a "${to.protocol.replace(/:$/, "")}" URL; only http and https redirects are followed`,
    );
  }
  if (from.protocol === "https:" && to.protocol === "http:") {
    throw new UnsafeResponseError(
      `"${from.host}" redirected the request for ${what} from https to plain http ("${to.host}"); a downgrade is never followed`,
    );
  }
  if (to.username !== "" || to.password !== "") {
    throw new UnsafeResponseError(`"${from.host}" redirected the request for ${what} to a URL with credentials in it; not followed`);
  }
  return to;
}

/** Whether a request to `url` may carry the credentials that belong to `credentialOrigin`. */
export function mayCarryCredentials(url: URL, credentialOrigin: string): boolean {
  return url.origin === credentialOrigin;
}

/**
 * Checks a Bearer challenge's realm before anything (credentials included)
 * is sent there; returns the reason it is refused, or null.
 */
export function tokenRealmProblem(realm: URL, registryInsecure: boolean): string | null {
  if (realm.protocol === "https:") return null;
  if (realm.protocol === "http:") {
    return registryInsecure ? null : `the token realm "${realm.origin}${realm.pathname}" is plain http and the registry is not marked insecure`;
  }
  return `the token realm "${clip(realm.href)}" is not an http or https URL`;
}

function clip(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}
