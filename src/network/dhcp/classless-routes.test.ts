import { expect, test } from "bun:test";
import { decodeClasslessRoutes, encodeClasslessRoutes } from "./classless-routes.ts";
import { DhcpEncodeError } from "./errors.ts";

test.each([
  // RFC 3442 section 3 table: width, significant octets, then the router.
  [0, "0.0.0.0", [0]],
  [1, "128.0.0.0", [1, 128]],
  [8, "10.0.0.0", [8, 10]],
  [9, "10.128.0.0", [9, 10, 128]],
  [16, "10.17.0.0", [16, 10, 17]],
  [24, "10.27.129.0", [24, 10, 27, 129]],
  [25, "10.229.0.128", [25, 10, 229, 0, 128]],
  [32, "10.198.122.47", [32, 10, 198, 122, 47]],
] as const)("/%i %s", (prefixLength, destination, head) => {
  const route = { destination, prefixLength, gateway: "10.0.0.1" };
  const wire = encodeClasslessRoutes([route]);
  expect(Array.from(wire)).toEqual([...head, 10, 0, 0, 1]);
  expect(decodeClasslessRoutes(wire)).toEqual({ ok: true, value: [route] });
});

test("refuses what is not an IPv4 prefix", () => {
  expect(() => encodeClasslessRoutes([{ destination: "10.0.0.0", prefixLength: 33, gateway: "10.0.0.1" }])).toThrow(DhcpEncodeError);
  expect(() => encodeClasslessRoutes([{ destination: "fd00::", prefixLength: 8, gateway: "10.0.0.1" }])).toThrow(/fd00::/);
});
