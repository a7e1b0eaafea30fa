import { describe, expect, test } from "bun:test";
import { vmiAddresses } from "./vmi-addresses.ts";

describe("vmiAddresses", () => {
  test("masquerade: the pod's addresses, not the guest's private ones, without prefix lengths, IPv4 first", () => {
    expect(vmiAddresses({ podAddresses: ["10.244.0.3/24", "fd00:10:244::3/64"] })).toEqual(["10.244.0.3", "fd00:10:244::3"]);
  });

  test("no addresses: none", () => {
    expect(vmiAddresses({ podAddresses: [] })).toEqual([]);
  });
});
