/**
 * The VMI's names for the domain's devices. Every disk and NIC carries the
 * alias "ua-<name>" (libvirt's user alias), where <name> is the VMI's disk or
 * interface name; libvirt's stats name a disk by its target ("vda") and a NIC
 * by its host device (the tap), so the metrics map them back through the XML.
 */

export const userAliasPrefix = "ua-";

export const userAlias = (name: string): string => `${userAliasPrefix}${name}`;

export interface DeviceNames {
  /** Disk target device ("vda", "sdb") -> the VMI's disk name. */
  drives: Record<string, string>;
  /** NIC host device (the tap) -> the VMI's interface name. */
  interfaces: Record<string, string>;
}

function attr(element: string, tag: string, name: string): string | undefined {
  const m = new RegExp(`<${tag}\\b[^>]*\\s${name}=(['"])([^'"]*)\\1`).exec(element);
  return m?.[2];
}

/** From a domain XML (the one bunvirt built, or libvirt's live one). */
export function deviceNames(xml: string): DeviceNames {
  const names: DeviceNames = { drives: {}, interfaces: {} };
  for (const [kind, tag] of [["drives", "disk"], ["interfaces", "interface"]] as const) {
    for (const m of xml.matchAll(new RegExp(`<${tag}\\b[\\s\\S]*?</${tag}>`, "g"))) {
      const dev = attr(m[0], "target", "dev");
      const alias = attr(m[0], "alias", "name");
      if (dev !== undefined && alias?.startsWith(userAliasPrefix) === true) names[kind][dev] = alias.slice(userAliasPrefix.length);
    }
  }
  return names;
}
