import { describe, expect, test } from "bun:test";
import { formatIPv6, nthIPv4, parseCidr4, parseCidr6, parseIPv6, vmNetwork4, vmNetwork6 } from "./cidr.ts";

describe("IPv6 text", () => {
  test.each([
    ["fd10:0:2::2", "fd10:0:2::2"],
    ["FD10:0000:0002:0000:0000:0000:0000:0001", "fd10:0:2::1"],
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["1:0:0:2:0:0:3:4", "1::2:0:0:3:4"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"],
    ["::ffff:10.0.0.1", "::ffff:a00:1"],
  ])("%s -> %s", (input, want) => {
    const v = parseIPv6(input);
    expect(v).not.toBeNull();
    expect(formatIPv6(v ?? 0n)).toBe(want);
  });

  test.each(["", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "g::", "1:2:3:4:5:6:7", "::1.2.3", "fe80::1%eth0"])("refuses %p", (input) => {
    expect(parseIPv6(input)).toBeNull();
  });
});

describe("CIDRs", () => {
  test("parse", () => {
    expect(parseCidr4("10.0.2.0/24")).toEqual({ address: "10.0.2.0", prefixLength: 24 });
    expect(parseCidr4("10.0.2.0")).toBeNull();
    expect(parseCidr4("10.0.2.0/33")).toBeNull();
    expect(parseCidr4("10.0.2.0/24/1")).toBeNull();
    expect(parseCidr6("FD10:0:2::/120")).toEqual({ address: "fd10:0:2::", prefixLength: 120 });
    expect(parseCidr6("fd10::/129")).toBeNull();
  });

  test("the VM network: gateway is the first host, the guest the second", () => {
    expect(vmNetwork4("10.0.2.0/24")).toEqual({ gateway: "10.0.2.1", guest: "10.0.2.2", prefixLength: 24 });
    expect(vmNetwork4("192.168.255.252/30")).toEqual({ gateway: "192.168.255.253", guest: "192.168.255.254", prefixLength: 30 });
    expect(vmNetwork6("fd10:0:2::/120")).toEqual({ gateway: "fd10:0:2::1", guest: "fd10:0:2::2", prefixLength: 120 });
    expect(nthIPv4("10.0.255.255", 1)).toBe("10.1.0.0");
  });

  test("bad VM networks are described", () => {
    expect(vmNetwork4("10.0.2.1/24")).toBe('"10.0.2.1/24" has host bits set');
    expect(vmNetwork4("10.0.2.0/31")).toMatch(/too small/);
    expect(vmNetwork4("banana")).toMatch(/is not an IPv4 CIDR/);
    expect(vmNetwork6("fd10::1/64")).toBe('"fd10::1/64" has host bits set');
    expect(vmNetwork6("fd10::/127")).toMatch(/too small/);
    expect(vmNetwork6("10.0.0.0/8")).toMatch(/is not an IPv6 CIDR/);
  });
});
