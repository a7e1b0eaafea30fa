import { expect, test } from "bun:test";
import { addressArgs, globalAddresses, restoreOrder, routeArgs } from "./iproute.ts";

test("addressArgs recreates what `ip -j addr` showed", () => {
  expect(addressArgs({ family: "inet", local: "10.99.0.2", prefixlen: 24, scope: "global", label: "eth0", valid_life_time: 4294967295, preferred_life_time: 4294967295 }, "eth0")).toEqual([
    "ip", "-4", "addr", "add", "10.99.0.2/24", "dev", "eth0",
  ]);
  expect(addressArgs({ family: "inet", local: "10.99.0.2", prefixlen: 24, broadcast: "10.99.0.255", label: "eth0:1", noprefixroute: true }, "eth0")).toEqual([
    "ip", "-4", "addr", "add", "10.99.0.2/24", "broadcast", "10.99.0.255", "label", "eth0:1", "noprefixroute", "dev", "eth0",
  ]);
  expect(addressArgs({ family: "inet", local: "10.98.0.2", address: "10.98.0.1", prefixlen: 32 }, "eth0")).toEqual([
    "ip", "-4", "addr", "add", "10.98.0.2", "peer", "10.98.0.1/32", "dev", "eth0",
  ]);
  expect(addressArgs({ family: "inet", local: "10.0.0.5", prefixlen: 8, valid_life_time: 300, preferred_life_time: 100 }, "eth0")).toEqual([
    "ip", "-4", "addr", "add", "10.0.0.5/8", "valid_lft", "300", "preferred_lft", "100", "dev", "eth0",
  ]);
});

test("routeArgs recreates what `ip -j route` showed (no protocol shown means boot)", () => {
  expect(routeArgs({ dst: "default", gateway: "10.99.0.1", dev: "eth0", flags: [] }, 4)).toEqual([
    "ip", "-4", "route", "add", "default", "via", "10.99.0.1", "dev", "eth0", "proto", "boot",
  ]);
  expect(routeArgs({ dst: "10.1.0.0/16", gateway: "169.254.1.1", dev: "eth0", protocol: "static", metric: 7, flags: ["onlink", "linkdown"], metrics: [{ mtu: 1400 }] }, 4)).toEqual([
    "ip", "-4", "route", "add", "10.1.0.0/16", "via", "169.254.1.1", "dev", "eth0", "proto", "static", "metric", "7", "mtu", "1400", "onlink",
  ]);
  expect(routeArgs({ dst: "169.254.1.1", dev: "eth0", scope: "link", table: "100" }, 4)).toEqual([
    "ip", "-4", "route", "add", "169.254.1.1", "dev", "eth0", "proto", "boot", "scope", "link", "table", "100",
  ]);
  expect(routeArgs({ dst: "10.9.0.0/16", type: "blackhole", protocol: "static" }, 4)).toEqual(["ip", "-4", "route", "add", "blackhole", "10.9.0.0/16", "proto", "static"]);
});

test("restoreOrder puts routes without a gateway first", () => {
  const routes = [{ dst: "default", gateway: "169.254.1.1" }, { dst: "169.254.1.1", scope: "link" }, { dst: "10.0.0.0/8", gateway: "169.254.1.1" }];
  expect(restoreOrder(routes).map((r) => r.dst)).toEqual(["169.254.1.1", "default", "10.0.0.0/8"]);
});

test("globalAddresses skips link and host scope and failed DAD", () => {
  const got = globalAddresses(
    [
      { family: "inet", local: "127.0.0.1", prefixlen: 8, scope: "host" },
      { family: "inet6", local: "fe80::1", prefixlen: 64, scope: "link" },
      { family: "inet6", local: "fd00::1", prefixlen: 64, scope: "global", dadfailed: true },
      { family: "inet6", local: "fd00::2", prefixlen: 64, scope: "global" },
    ],
    "inet6",
  );
  expect(got.map((a) => a.local)).toEqual(["fd00::2"]);
});
