/**
 * Reads the pod's resolv.conf (resolv.conf(5)) into what DHCP hands the VM:
 * IPv4 name servers (option 6) and the search list (option 119). Pure.
 *
 * - "nameserver ADDR": IPv4 addresses kept in order, duplicates dropped;
 *   IPv6 ones are skipped (DHCPv4 cannot carry them).
 * - "search A B ..." and "domain A": the last of them wins, as in glibc;
 *   a trailing dot is dropped, duplicates too.
 * - "#" and ";" start comments; other keywords ("options", ...) are ignored.
 */
import { isIPv4 } from "../ipv4.ts";

export interface ResolvConf {
  dns: string[];
  searchDomains: string[];
}

const withoutDot = (name: string): string => (name.length > 1 && name.endsWith(".") ? name.slice(0, -1) : name);

export function parseResolvConf(text: string): ResolvConf {
  const dns: string[] = [];
  let searchDomains: string[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/[#;].*$/, "").trim();
    if (line === "") continue;
    const [keyword, ...args] = line.split(/\s+/);
    switch (keyword) {
      case "nameserver": {
        const address = args[0];
        if (address !== undefined && isIPv4(address) && !dns.includes(address)) dns.push(address);
        break;
      }
      case "search":
        searchDomains = [...new Set(args.map(withoutDot))];
        break;
      case "domain":
        searchDomains = args.slice(0, 1).map(withoutDot);
        break;
    }
  }
  return { dns, searchDomains };
}
