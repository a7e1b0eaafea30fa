import { expect, test } from "bun:test";
import { withoutHandles } from "./nft.ts";

test("withoutHandles drops handles and the metainfo entry, keeps content", () => {
  expect(
    withoutHandles([
      { metainfo: { version: "1.0.6" } },
      { table: { family: "ip", name: "bunvirt", handle: 3 } },
      { rule: { family: "ip", table: "bunvirt", chain: "output", handle: 7, expr: [{ dnat: { addr: "10.0.2.2" } }] } },
    ]),
  ).toEqual([
    { table: { family: "ip", name: "bunvirt" } },
    { rule: { family: "ip", table: "bunvirt", chain: "output", expr: [{ dnat: { addr: "10.0.2.2" } }] } },
  ]);
});
