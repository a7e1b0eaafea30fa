import { describe, expect, test } from "bun:test";
import { domainNameFromXml, domainPathForUuid, uuidFromDomainPath } from "./domain-path.ts";

const UUID = "7f4d06f4-713f-47f4-a636-95ec6479454c";
const PATH = "/org/libvirt/QEMU/domain/_7f4d06f4_713f_47f4_a636_95ec6479454c";

describe("libvirt-dbus domain paths", () => {
  test("round trip", () => {
    expect(domainPathForUuid(UUID)).toBe(PATH);
    expect(uuidFromDomainPath(PATH)).toBe(UUID);
  });

  test("non-domain paths", () => {
    expect(uuidFromDomainPath("/org/libvirt/QEMU")).toBeNull();
    expect(uuidFromDomainPath("/org/libvirt/QEMU/domain/_nope")).toBeNull();
    expect(() => domainPathForUuid("nope")).toThrow('"nope" is not a UUID');
  });

  test("domain name from XML", () => {
    expect(domainNameFromXml("<domain type='qemu'>\n  <name> vm&amp;1 </name>")).toBe("vm&1");
    expect(domainNameFromXml("<domain/>")).toBeNull();
  });
});
