import { describe, expect, test } from "bun:test";
import { comparePrimary, planFileNames, primaryParts } from "./file-names.ts";

describe("primaryParts", () => {
  test.each([
    ["meta-data", "META_DAT", ""],
    ["user-data", "USER_DAT", ""],
    ["network-config", "NETWORK_", ""],
    ["vendor-data", "VENDOR_D", ""],
    ["config.json", "CONFIG", "JSO"],
    ["a.b.c", "A_B", "C"],
    [".hidden", "", "HID"],
    ["trailing.", "TRAILING", ""],
    ["ünï", "_N_", ""],
    ["straße", "STRA_E", ""],
  ])("%p -> %p . %p", (name, base, extension) => {
    expect(primaryParts(name)).toEqual({ base, extension });
  });
});

describe("planFileNames", () => {
  test("gives the cidata names their xorrisofs identifiers", () => {
    const plan = planFileNames(["meta-data", "user-data", "network-config", "vendor-data"]);
    expect(plan.map((p) => p.primary)).toEqual(["META_DAT.;1", "USER_DAT.;1", "NETWORK_.;1", "VENDOR_D.;1"]);
    expect(plan.map((p) => p.joliet)).toEqual(["meta-data", "user-data", "network-config", "vendor-data"]);
  });

  test("numbers clashes in real-name order, whatever the input order", () => {
    const a = planFileNames(["user-data2", "user-data", "user-data10"]);
    const b = planFileNames(["user-data", "user-data10", "user-data2"]);
    const asMap = (p: ReturnType<typeof planFileNames>): Record<string, string> =>
      Object.fromEntries(p.map((x) => [x.name, x.primary]));
    expect(asMap(a)).toEqual({
      "user-data": "USER_DAT.;1",
      "user-data10": "USER_DA1.;1",
      "user-data2": "USER_DA2.;1",
    });
    expect(asMap(b)).toEqual(asMap(a));
  });

  test("a numbered identifier never takes another file's natural one", () => {
    const plan = planFileNames(["ab+", "ab-", "AB_1", "ab_1"]);
    expect(new Set(plan.map((p) => p.primary)).size).toBe(4);
  });
});

describe("comparePrimary", () => {
  test("orders by space-padded name, then extension", () => {
    const ids = ["AB.;1", "A.Z;1", "A_.;1", "A.B;1", "AB.C;1"];
    expect([...ids].sort(comparePrimary)).toEqual(["A.B;1", "A.Z;1", "AB.;1", "AB.C;1", "A_.;1"]);
  });
});
