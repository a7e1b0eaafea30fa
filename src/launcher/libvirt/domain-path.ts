/**
 * libvirt-dbus object paths. A domain lives at
 * `<connect path>/domain/_<uuid with "-" as "_">`, e.g.
 * /org/libvirt/QEMU/domain/_7f4d06f4_713f_47f4_a636_95ec6479454c. Pure.
 */

export const LIBVIRT_BUS_NAME = "org.libvirt";
export const QEMU_CONNECT_PATH = "/org/libvirt/QEMU";
export const CONNECT_INTERFACE = "org.libvirt.Connect";
export const DOMAIN_INTERFACE = "org.libvirt.Domain";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Object path of the domain with this UUID below a connect path. */
export function domainPathForUuid(uuid: string, connectPath = QEMU_CONNECT_PATH): string {
  if (!UUID.test(uuid)) throw new Error(`Cannot build a domain object path: "${uuid}" is not a UUID`);
  return `${connectPath}/domain/_${uuid.toLowerCase().replaceAll("-", "_")}`;
}

/** The UUID in a domain object path, or null when the path is not one. */
export function uuidFromDomainPath(path: string): string | null {
  const last = path.slice(path.lastIndexOf("/") + 1);
  if (!last.startsWith("_")) return null;
  const uuid = last.slice(1).replaceAll("_", "-");
  return UUID.test(uuid) ? uuid.toLowerCase() : null;
}

/** The <name> of a domain XML document (first one, top level by convention), or null. */
export function domainNameFromXml(xml: string): string | null {
  const m = /<name>\s*([^<]*?)\s*<\/name>/.exec(xml);
  if (!m?.[1]) return null;
  return m[1]
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&amp;", "&");
}
