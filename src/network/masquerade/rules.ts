/**
 * The nftables table of the masquerade binding (KubeVirt's rules, in a table
 * of our own so teardown removes exactly them). Pure: text for `nft -f`.
 *
 *   prerouting  iifname POD daddr POD_IP [proto dport {PORTS}] dnat to GUEST
 *   output      daddr POD_IP [proto dport {PORTS}] dnat to GUEST
 *               (connections made inside the pod to its own IP reach the VM)
 *   postrouting oifname POD saddr GUEST masquerade
 *   forward     into the bridge towards GUEST: only replies and DNATed
 *               connections; anything routed there directly is dropped
 *
 * Without declared ports every port (and ICMP) goes to the guest; with
 * ports, only those (TCP/UDP) do and the rest stays with the pod.
 */

export interface PortRule {
  protocol: "tcp" | "udp";
  port: number;
}

export interface MasqueradeRules {
  family: "ip" | "ip6";
  podInterface: string;
  bridge: string;
  /** The pod's address on podInterface (DNAT from). */
  podAddress: string;
  /** The guest's address (DNAT to, SNAT from). */
  guest: string;
  /** null: every port. */
  ports: PortRule[] | null;
}

const quote = (name: string): string => `"${name}"`;

/** The DNAT match+action lines for one chain (without the leading interface match). */
function dnatLines(r: MasqueradeRules, prefix: string): string[] {
  const addr = r.family === "ip" ? "ip" : "ip6";
  const head = `${prefix}${addr} daddr ${r.podAddress}`;
  if (r.ports === null) return [`${head} dnat to ${r.guest}`];
  const out: string[] = [];
  for (const protocol of ["tcp", "udp"] as const) {
    const ports = [...new Set(r.ports.filter((p) => p.protocol === protocol).map((p) => p.port))].sort((a, b) => a - b);
    if (ports.length > 0) out.push(`${head} ${protocol} dport { ${ports.join(", ")} } dnat to ${r.guest}`);
  }
  return out;
}

function chain(name: string, hook: string, lines: string[]): string {
  return [`  chain ${name} {`, `    ${hook}`, ...lines.map((l) => `    ${l}`), "  }", ""].join("\n");
}

/** The body of `table FAMILY bunvirt { ... }`. */
export function masqueradeTableBody(r: MasqueradeRules): string {
  const addr = r.family === "ip" ? "ip" : "ip6";
  const pod = quote(r.podInterface);
  const bridge = quote(r.bridge);
  return [
    chain("prerouting", "type nat hook prerouting priority -100; policy accept;", dnatLines(r, `iifname ${pod} `)),
    chain("output", "type nat hook output priority -100; policy accept;", dnatLines(r, "")),
    chain("postrouting", "type nat hook postrouting priority 100; policy accept;", [`oifname ${pod} ${addr} saddr ${r.guest} masquerade`]),
    chain("forward", "type filter hook forward priority 0; policy accept;", [
      `oifname ${bridge} ${addr} daddr ${r.guest} ct state established,related accept`,
      `oifname ${bridge} ${addr} daddr ${r.guest} ct status dnat accept`,
      `oifname ${bridge} ${addr} daddr ${r.guest} drop`,
    ]),
  ].join("");
}
