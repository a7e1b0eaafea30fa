import { expect, test } from "bun:test";
import { routesCover } from "./link.ts";

// Shapes as printed by `ip -4 -j route show dev br0` (iproute2 6.1).
const connected = { dst: "10.0.2.0/24", protocol: "kernel", scope: "link", prefsrc: "10.0.2.1", flags: [] };
const host = { dst: "10.244.1.7", scope: "link", flags: [] };
const viaGateway = { dst: "10.244.0.0/16", gateway: "10.0.2.254", flags: [] };
const defaultRoute = { dst: "default", gateway: "10.0.2.254", flags: [] };
const blackhole = { type: "blackhole", dst: "10.9.0.0/16", flags: [] };

test.each([
  ["a connected /24", [connected], "10.0.2.2", true],
  ["outside the connected /24", [connected], "10.0.3.2", false],
  ["a host route without prefix length", [host], "10.244.1.7", true],
  ["a route via a gateway", [viaGateway], "10.244.1.7", false],
  ["the default route", [defaultRoute], "10.244.1.7", false],
  ["a blackhole", [blackhole], "10.9.1.1", false],
  ["no routes (the bridge has only a /32 link-local address)", [], "10.244.1.7", false],
  ["not JSON array", { dst: "10.0.2.0/24" }, "10.0.2.2", false],
  ["garbage entries", [null, 1, { dst: 5 }, { dst: "10.0.2.0/99" }], "10.0.2.2", false],
] as const)("%s", (_name, routes, address, covered) => {
  expect(routesCover(routes, address)).toBe(covered);
});
