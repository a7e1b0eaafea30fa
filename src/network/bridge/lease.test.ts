import { expect, test } from "bun:test";
import { leaseConfigProblems } from "../dhcp/index.ts";
import type { Address, Route } from "../iproute.ts";
import { bridgeLease, defaultGateway } from "./lease.ts";

const address: Address = { family: "inet", local: "10.244.1.7", prefixlen: 24, scope: "global" };
const common = { mac: "0a:58:0a:f4:01:07", mtu: 1450, dns: ["10.96.0.10"], searchDomains: ["ns.svc.cluster.local"] };
const connected: Route = { dst: "10.244.1.0/24", dev: "eth0", protocol: "kernel", scope: "link", prefsrc: "10.244.1.7" };

test("a plain pod: its address, gateway, the server route; connected routes stay out", () => {
  const lease = bridgeLease({ ...common, address, routes: [{ dst: "default", gateway: "10.244.1.1", dev: "eth0" }, connected], hostname: "vm" });
  expect(lease).toEqual({
    clientMac: "0a:58:0a:f4:01:07",
    address: "10.244.1.7",
    prefixLength: 24,
    router: "10.244.1.1",
    dns: ["10.96.0.10"],
    searchDomains: ["ns.svc.cluster.local"],
    mtu: 1450,
    leaseSeconds: 0xffffffff,
    serverId: "169.254.75.10",
    classlessRoutes: [{ destination: "169.254.75.10", prefixLength: 32, gateway: "0.0.0.0" }],
    hostname: "vm",
  });
  expect(leaseConfigProblems(lease)).toEqual([]);
});

test("a gateway outside the subnet (Calico style) gets an on-link /32 before the routes through it", () => {
  const lease = bridgeLease({
    ...common,
    address: { ...address, prefixlen: 32 },
    routes: [
      { dst: "default", gateway: "169.254.1.1", dev: "eth0" },
      { dst: "169.254.1.1", dev: "eth0", scope: "link" },
      { dst: "10.100.0.0/16", gateway: "169.254.1.1", dev: "eth0", protocol: "static" },
    ],
  });
  expect(lease.router).toBe("169.254.1.1");
  expect(lease.classlessRoutes).toEqual([
    { destination: "169.254.75.10", prefixLength: 32, gateway: "0.0.0.0" },
    { destination: "169.254.1.1", prefixLength: 32, gateway: "0.0.0.0" },
    { destination: "10.100.0.0", prefixLength: 16, gateway: "169.254.1.1" },
  ]);
  expect(leaseConfigProblems(lease)).toEqual([]);
});

test("a point-to-point address: the peer is on-link", () => {
  const lease = bridgeLease({
    ...common,
    address: { ...address, prefixlen: 32, address: "10.244.1.1" },
    routes: [{ dst: "default", gateway: "10.244.1.1", dev: "eth0" }, { dst: "10.244.1.1", dev: "eth0", protocol: "kernel", scope: "link" }],
  });
  expect(lease.classlessRoutes).toEqual([
    { destination: "169.254.75.10", prefixLength: 32, gateway: "0.0.0.0" },
    { destination: "10.244.1.1", prefixLength: 32, gateway: "0.0.0.0" },
  ]);
});

test("no default route: no router; non-unicast routes and other tables are left out", () => {
  const lease = bridgeLease({
    ...common,
    address,
    routes: [
      connected,
      { dst: "10.9.0.0/16", type: "blackhole" },
      { dst: "10.8.0.0/16", gateway: "10.244.1.254", table: "100" },
    ],
  });
  expect(lease.router).toBeUndefined();
  expect(lease.classlessRoutes).toEqual([{ destination: "169.254.75.10", prefixLength: 32, gateway: "0.0.0.0" }]);
});

test("defaultGateway prefers the lowest metric", () => {
  expect(
    defaultGateway([
      { dst: "default", gateway: "10.0.0.2", metric: 200 },
      { dst: "default", gateway: "10.0.0.1", metric: 100 },
    ]),
  ).toBe("10.0.0.1");
  expect(defaultGateway([{ dst: "default", dev: "eth0" }])).toBeUndefined();
});
