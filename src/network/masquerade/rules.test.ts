import { expect, test } from "bun:test";
import { masqueradeTableBody } from "./rules.ts";

const base = { podInterface: "eth0", bridge: "k6t-eth0", podAddress: "10.244.1.7", guest: "10.0.2.2" } as const;

test("every port: the pod IP is the guest's, in from eth0 and from the pod itself", () => {
  expect(masqueradeTableBody({ ...base, family: "ip", ports: null })).toBe(`  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    iifname "eth0" ip daddr 10.244.1.7 dnat to 10.0.2.2
  }
  chain output {
    type nat hook output priority -100; policy accept;
    ip daddr 10.244.1.7 dnat to 10.0.2.2
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    oifname "eth0" ip saddr 10.0.2.2 masquerade
  }
  chain forward {
    type filter hook forward priority 0; policy accept;
    oifname "k6t-eth0" ip daddr 10.0.2.2 ct state established,related accept
    oifname "k6t-eth0" ip daddr 10.0.2.2 ct status dnat accept
    oifname "k6t-eth0" ip daddr 10.0.2.2 drop
  }
`);
});

test("declared ports: one rule per protocol, sorted, duplicates merged", () => {
  const body = masqueradeTableBody({
    ...base,
    family: "ip",
    ports: [
      { protocol: "tcp", port: 8080 },
      { protocol: "udp", port: 53 },
      { protocol: "tcp", port: 22 },
      { protocol: "tcp", port: 22 },
    ],
  });
  expect(body).toContain('    iifname "eth0" ip daddr 10.244.1.7 tcp dport { 22, 8080 } dnat to 10.0.2.2\n');
  expect(body).toContain('    iifname "eth0" ip daddr 10.244.1.7 udp dport { 53 } dnat to 10.0.2.2\n');
  expect(body).toContain("    ip daddr 10.244.1.7 tcp dport { 22, 8080 } dnat to 10.0.2.2\n");
  expect(body).not.toContain("daddr 10.244.1.7 dnat");
});

test("only UDP declared: no TCP rule", () => {
  const body = masqueradeTableBody({ ...base, family: "ip", ports: [{ protocol: "udp", port: 53 }] });
  expect(body).not.toContain("tcp dport");
});

test("IPv6 uses ip6 matches", () => {
  const body = masqueradeTableBody({ ...base, family: "ip6", podAddress: "fd00::7", guest: "fd10:0:2::2", ports: null });
  expect(body).toContain('iifname "eth0" ip6 daddr fd00::7 dnat to fd10:0:2::2');
  expect(body).toContain('oifname "eth0" ip6 saddr fd10:0:2::2 masquerade');
  expect(body).toContain('oifname "k6t-eth0" ip6 daddr fd10:0:2::2 drop');
  expect(body).not.toMatch(/\bip (daddr|saddr)/);
});
