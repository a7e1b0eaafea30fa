/**
 * Errors of the libvirt D-Bus client: `Cannot <verb> domain "<name>": <why>`,
 * the original error as `cause`, and the D-Bus error name when libvirt-dbus
 * (or the bus) answered with one.
 */

/** A D-Bus ERROR reply (or a local transport failure, with `dbusName` null). */
export class DbusCallError extends Error {
  override readonly name = "DbusCallError";
  constructor(
    message: string,
    /** e.g. "org.libvirt.Error", "org.freedesktop.DBus.Error.ServiceUnknown"; null for timeouts and disconnects. */
    readonly dbusName: string | null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class LibvirtClientError extends Error {
  override readonly name = "LibvirtClientError";
  constructor(
    message: string,
    readonly verb: string,
    /** Domain name, or null for connection-wide calls. */
    readonly domain: string | null,
    /** D-Bus error name of the underlying failure, if any. */
    readonly dbusName: string | null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

function reasonOf(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}

/** `Cannot <verb> domain "<name>": <reason>` (or `Cannot <verb>: <reason>` without a domain). */
export function wrapClientError(verb: string, domain: string | null, cause: unknown): LibvirtClientError {
  const what = domain === null ? verb : `${verb} domain "${domain}"`;
  const dbusName = cause instanceof DbusCallError ? cause.dbusName : null;
  return new LibvirtClientError(`Cannot ${what}: ${reasonOf(cause)}`, verb, domain, dbusName, { cause });
}
