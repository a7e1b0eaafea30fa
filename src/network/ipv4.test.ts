import { expect, test } from "bun:test";
import { broadcastAddress, formatIPv4, isNetworkAddress, networkAddress, parseIPv4, prefixContains, prefixToNetmask } from "./ipv4.ts";

test.each([
  ["0.0.0.0", 0],
  ["255.255.255.255", 0xffffffff],
  ["10.0.2.1", 0x0a000201],
  ["10.0.2", null],
  ["10.0.2.256", null],
  ["010.0.2.1", null],
  [" 10.0.2.1", null],
  ["::1", null],
])("parseIPv4(%p)", (text, value) => {
  expect(parseIPv4(text)).toBe(value);
  if (value !== null) expect(formatIPv4(value)).toBe(text);
});

test("prefix helpers", () => {
  expect([0, 1, 12, 24, 31, 32].map(prefixToNetmask)).toEqual([
    "0.0.0.0", "128.0.0.0", "255.240.0.0", "255.255.255.0", "255.255.255.254", "255.255.255.255",
  ]);
  expect(broadcastAddress("10.244.1.7", 24)).toBe("10.244.1.255");
  expect(broadcastAddress("10.0.0.1", 8)).toBe("10.255.255.255");
  expect(broadcastAddress("10.0.0.1", 31)).toBeNull();
  expect(broadcastAddress("10.0.0.1", 32)).toBeNull();
  expect(prefixContains("10.0.2.0", 24, "10.0.2.200")).toBe(true);
  expect(prefixContains("10.0.2.0", 24, "10.0.3.1")).toBe(false);
  expect(prefixContains("0.0.0.0", 0, "1.2.3.4")).toBe(true);
  expect(isNetworkAddress("10.96.0.0", 12)).toBe(true);
  expect(isNetworkAddress("10.97.0.0", 12)).toBe(false);
  expect(networkAddress("10.97.3.4", 12)).toBe("10.96.0.0");
  expect(networkAddress("10.97.3.4", 32)).toBe("10.97.3.4");
  expect(networkAddress("10.97.3.4", 0)).toBe("0.0.0.0");
  expect(networkAddress("10.97.3", 8)).toBeNull();
});
