import { describe, expect, test } from "bun:test";
import { DbusCallError, LibvirtClientError, wrapClientError } from "./errors.ts";

describe("client errors", () => {
  test("wrap with domain", () => {
    const cause = new DbusCallError("domain is not running", "org.libvirt.Error");
    const e = wrapClientError("destroy", "vm", cause);
    expect(e).toBeInstanceOf(LibvirtClientError);
    expect(e.message).toBe('Cannot destroy domain "vm": domain is not running');
    expect(e.cause).toBe(cause);
    expect(e.dbusName).toBe("org.libvirt.Error");
  });

  test("wrap without domain", () => {
    const e = wrapClientError("list domains", null, new Error("boom"));
    expect(e.message).toBe("Cannot list domains: boom");
    expect(e.dbusName).toBeNull();
  });
});
