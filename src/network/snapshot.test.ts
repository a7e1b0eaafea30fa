import { expect, test } from "bun:test";
import { withoutCarrier } from "./snapshot.ts";

test("withoutCarrier drops operstate and carrier flags only", () => {
  const s = {
    addr: [{ ifname: "br", operstate: "DOWN", flags: ["NO-CARRIER", "BROADCAST", "UP"] }],
    link: [{ ifname: "br", operstate: "UNKNOWN", flags: ["BROADCAST", "UP", "LOWER_UP"] }],
    route4: [{ dst: "10.0.2.0/24", flags: ["linkdown", "onlink"] }],
    route6: [],
    nft: { nftables: [] },
    sysctl: { "net/ipv4/ip_forward": "1" },
  };
  expect(withoutCarrier(s)).toEqual({
    addr: [{ ifname: "br", flags: ["BROADCAST", "UP"] }],
    link: [{ ifname: "br", flags: ["BROADCAST", "UP"] }],
    route4: [{ dst: "10.0.2.0/24", flags: ["onlink"] }],
    route6: [],
    nft: { nftables: [] },
    sysctl: { "net/ipv4/ip_forward": "1" },
  });
});
