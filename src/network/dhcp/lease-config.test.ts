import { expect, test } from "bun:test";
import { type LeaseConfig, leaseConfigProblems } from "./lease-config.ts";

const GOOD: LeaseConfig = {
  clientMac: "02:00:00:00:00:01",
  address: "10.244.1.7",
  prefixLength: 24,
  router: "10.244.1.1",
  dns: ["10.96.0.10"],
  searchDomains: ["cluster.local"],
  hostname: "vm1",
  mtu: 1500,
  leaseSeconds: 3600,
  serverId: "169.254.75.10",
  classlessRoutes: [{ destination: "10.96.0.0", prefixLength: 12, gateway: "10.244.1.1" }],
};

test("a complete config has no problems", () => {
  expect(leaseConfigProblems(GOOD)).toEqual([]);
});

test.each<[string, Partial<LeaseConfig>, RegExp]>([
  ["bad MAC", { clientMac: "02:00:00:00:01" }, /clientMac "02:00:00:00:01"/],
  ["bad address", { address: "10.244.1" }, /address "10.244.1"/],
  ["leading zeros", { router: "10.244.001.1" }, /router "10.244.001.1"/],
  ["bad DNS entry", { dns: ["10.96.0.10", "fd00::10"] }, /dns\[1\] "fd00::10"/],
  ["prefix 33", { prefixLength: 33 }, /prefixLength "33"/],
  ["MTU 67", { mtu: 67 }, /mtu "67"/],
  ["lease 0", { leaseSeconds: 0 }, /leaseSeconds "0"/],
  ["lease 1.5", { leaseSeconds: 1.5 }, /leaseSeconds "1.5"/],
  ["bad search domain", { searchDomains: ["a..b"] }, /empty label/],
  ["empty hostname", { hostname: "" }, /hostname ""/],
  ["non-latin1 domain name", { domainName: "b\u00fccher.\u4e2d" }, /domainName/],
  ["route with host bits", { classlessRoutes: [{ destination: "10.96.0.1", prefixLength: 12, gateway: "10.244.1.1" }] }, /host bits/],
  ["route with bad gateway", { classlessRoutes: [{ destination: "10.96.0.0", prefixLength: 12, gateway: "x" }] }, /not an IPv4 prefix/],
])("%s", (_name, change, problem) => {
  const problems = leaseConfigProblems({ ...GOOD, ...change });
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(problem);
});
