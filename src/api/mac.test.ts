import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { canonicalMac, derivedMac, formatMac, isMulticastMac, localUnicastMac, macAddressProblem, masqueradeBridgeMac, normalizeMac, parseMac } from "./mac.ts";

describe("parseMac reads the six-octet forms of Go's net.ParseMAC", () => {
  test.each(["00:00:5e:00:53:01", "00-00-5e-00-53-01", "0000.5e00.5301", "00:00:5E:00:53:01", "0000.5E00.5301"])("%s", (text) => {
    expect(Array.from(parseMac(text) ?? [])).toEqual([0, 0, 0x5e, 0, 0x53, 1]);
  });

  test.each([
    ["five octets", "00:00:5e:00:53"],
    ["seven octets", "00:00:5e:00:53:01:02"],
    ["EUI-64 (eight octets; KubeVirt: too long)", "02:00:5e:10:00:00:00:01"],
    ["mixed separators", "00:00-5e:00:53:01"],
    ["one-digit group", "0:0:5e:0:53:1"],
    ["no separator", "00005e005301"],
    ["not hex", "zz:00:5e:00:53:01"],
    ["dot form with two groups", "0000.5e00"],
    ["dot form with short groups", "000.5e00.5301"],
    ["white space", " 00:00:5e:00:53:01"],
    ["empty", ""],
  ])("refuses %s", (_what, text) => {
    expect(parseMac(text)).toBeNull();
  });

  test("every six bytes survive formatMac and every accepted form", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (bytes) => {
        const colon = formatMac(bytes);
        expect(colon).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
        const dash = colon.toUpperCase().replace(/:/g, "-");
        const hex = colon.replace(/:/g, "");
        const dot = `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8)}`;
        for (const form of [colon, dash, dot]) expect(normalizeMac(form)).toBe(colon);
        expect(Array.from(parseMac(colon) ?? [])).toEqual(Array.from(bytes));
      }),
    );
  });
});

test("canonicalMac writes the colon form and throws on what is not a MAC", () => {
  expect(canonicalMac("02-AB-00-00-00-01")).toBe("02:ab:00:00:00:01");
  expect(() => canonicalMac("nope")).toThrow('Cannot write MAC address "nope": it is not a MAC address');
});

test("isMulticastMac looks at the group bit", () => {
  expect(isMulticastMac(parseMac("01:00:5e:00:00:01")!)).toBe(true);
  expect(isMulticastMac(parseMac("ff:ff:ff:ff:ff:ff")!)).toBe(true);
  expect(isMulticastMac(parseMac("02:00:5e:00:00:01")!)).toBe(false);
});

test("localUnicastMac: locally administered, unicast, never the masquerade bridge's MAC", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (entropy) => {
      const mac = localUnicastMac(entropy);
      const first = parseMac(mac)![0]!;
      expect(first & 0x03).toBe(0x02);
      expect(mac).not.toBe(masqueradeBridgeMac);
    }),
  );
  expect(localUnicastMac(Uint8Array.of(0, 0, 0, 0, 0, 0))).toBe("02:00:00:00:00:01");
  expect(localUnicastMac(Uint8Array.of(0xff, 1, 2, 3, 4, 5))).toBe("fe:01:02:03:04:05");
});

test("derivedMac is stable per VMI and interface (a relaunched VM keeps its MAC)", () => {
  expect(derivedMac("default/vm", "default")).toBe("02:2e:78:a6:8c:eb");
  expect(derivedMac("ns/a", "eth")).toBe("02:ad:6f:21:29:77");
  expect(derivedMac("default/vm", "other")).not.toBe(derivedMac("default/vm", "default"));
});

describe("macAddressProblem", () => {
  test("a unicast MAC in any accepted form is fine on either binding", () => {
    for (const text of ["02:00:5e:00:53:01", "02-00-5E-00-53-01", "0200.5e00.5301"]) {
      expect(macAddressProblem(text, "masquerade")).toBeNull();
      expect(macAddressProblem(text, "bridge")).toBeNull();
    }
  });

  test("says what is not a MAC and which forms are", () => {
    expect(macAddressProblem("02:00:00:00:00", "bridge")).toBe(
      '"02:00:00:00:00" is not a MAC address: six octets written as 02:00:5e:00:53:01, 02-00-5e-00-53-01 or 0200.5e00.5301',
    );
  });

  test("refuses multicast, saying libvirt cannot use it", () => {
    expect(macAddressProblem("01-00-5E-00-00-01", "bridge")).toMatch(/^"01-00-5E-00-00-01" is a multicast MAC address .*libvirt cannot use a multicast MAC/);
  });

  test("02:00:00:00:00:00 is reserved under masquerade in every form, not under bridge", () => {
    for (const text of ["02:00:00:00:00:00", "02-00-00-00-00-00", "0200.0000.0000"]) {
      expect(macAddressProblem(text, "masquerade")).toMatch(/is reserved for the in-pod bridge of a masquerade interface/);
      expect(macAddressProblem(text, "bridge")).toBeNull();
    }
  });
});
