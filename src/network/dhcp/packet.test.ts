import { describe, expect, test } from "bun:test";
import { type DhcpPacket, clientMac, decode, encode } from "./packet.ts";
import { type DecodeErrorCode, DhcpEncodeError } from "./errors.ts";
import { ascii, hex, message } from "../../../tests/lib/dhcp-bytes.ts";

const MAC = Uint8Array.from(hex("020000000001"));

function packet(over: Partial<DhcpPacket>): DhcpPacket {
  return {
    op: 1,
    htype: 1,
    hops: 0,
    xid: 0x12345678,
    secs: 0,
    flags: 0,
    ciaddr: "0.0.0.0",
    yiaddr: "0.0.0.0",
    siaddr: "0.0.0.0",
    giaddr: "0.0.0.0",
    chaddr: MAC,
    sname: "",
    file: "",
    options: {},
    ...over,
  };
}

interface Case {
  name: string;
  bytes: Uint8Array;
  packet: DhcpPacket;
  /** The bytes are what encode() writes for `packet` (else decode-only). */
  canonical: boolean;
}

const cases: Case[] = [
  {
    name: "DISCOVER as udhcpc sends it (client id, parameter list, broadcast flag)",
    bytes: message({ flags: "8000", secs: "0003" }, [
      ...hex("35 01 01"),
      ...hex("37 07 01 03 06 0c 0f 1c 79"),
      ...hex("3d 07 01 020000000001"),
      0xff,
    ]),
    packet: packet({
      flags: 0x8000,
      secs: 3,
      options: {
        messageType: 1,
        parameterRequestList: [1, 3, 6, 12, 15, 28, 121],
        clientId: Uint8Array.from(hex("01020000000001")),
      },
    }),
    canonical: true,
  },
  {
    name: "OFFER with every configuration option",
    bytes: message({ op: 2, yiaddr: "0a000202" }, [
      ...hex("35 01 02"),
      ...hex("36 04 0a000201"),
      ...hex("01 04 ffffff00"),
      ...hex("03 04 0a000201"),
      ...hex("06 08 0a60000a 08080808"),
      ...hex("0c 03"), ...ascii("vm1"),
      ...hex("0f 0d"), ...ascii("cluster.local"),
      ...hex("1a 02 05aa"),
      ...hex("1c 04 0a0002ff"),
      ...hex("33 04 00015180"),
      ...hex("3a 04 0000a8c0"),
      ...hex("3b 04 00012750"),
      ...hex("77 0f 07"), ...ascii("cluster"), ...hex("05"), ...ascii("local"), 0,
      ...hex("79 0c 0c 0a60 0a000201 00 0a000201"),
      0xff,
    ]),
    packet: packet({
      op: 2,
      yiaddr: "10.0.2.2",
      options: {
        messageType: 2,
        serverId: "10.0.2.1",
        subnetMask: "255.255.255.0",
        routers: ["10.0.2.1"],
        dnsServers: ["10.96.0.10", "8.8.8.8"],
        hostname: "vm1",
        domainName: "cluster.local",
        interfaceMtu: 1450,
        broadcastAddress: "10.0.2.255",
        leaseTime: 86400,
        renewalTime: 43200,
        rebindingTime: 75600,
        domainSearch: ["cluster.local"],
        classlessRoutes: [
          { destination: "10.96.0.0", prefixLength: 12, gateway: "10.0.2.1" },
          { destination: "0.0.0.0", prefixLength: 0, gateway: "10.0.2.1" },
        ],
      },
    }),
    canonical: true,
  },
  {
    name: "REQUEST (selecting) with requested address and server id",
    bytes: message({}, [...hex("35 01 03 36 04 0a000201 32 04 0a000202"), 0xff]),
    packet: packet({ options: { messageType: 3, serverId: "10.0.2.1", requestedIp: "10.0.2.2" } }),
    canonical: true,
  },
  {
    name: "RFC 3397 example: compressed search list split over three options",
    bytes: message({}, [
      ...hex("77 09 03"), ...ascii("eng"), 5, ...ascii("appl"),
      ...hex("77 09"), ...ascii("e"), 3, ...ascii("com"), 0, 9, ...ascii("ma"),
      ...hex("77 09"), ...ascii("rketing"), 0xc0, 0x04,
      0xff,
    ]),
    packet: packet({ options: { domainSearch: ["eng.apple.com", "marketing.apple.com"] } }),
    canonical: false,
  },
  {
    name: "RFC 3397 example: the same list as encode() writes it (one option, same compression)",
    bytes: message({}, [
      ...hex("77 1b 03"), ...ascii("eng"), 5, ...ascii("apple"), 3, ...ascii("com"), 0,
      9, ...ascii("marketing"), 0xc0, 0x04,
      0xff,
    ]),
    packet: packet({ options: { domainSearch: ["eng.apple.com", "marketing.apple.com"] } }),
    canonical: true,
  },
  {
    name: "RFC 3442 examples: each destination width",
    bytes: message({}, [
      ...hex("79 24"),
      ...hex("00 0a000001"),
      ...hex("08 0a 0a000001"),
      ...hex("10 0a11 0a000001"),
      ...hex("19 0ae50080 0a000001"),
      ...hex("20 0ac67a2f 0a000001"),
      0xff,
    ]),
    packet: packet({
      options: {
        classlessRoutes: [
          { destination: "0.0.0.0", prefixLength: 0, gateway: "10.0.0.1" },
          { destination: "10.0.0.0", prefixLength: 8, gateway: "10.0.0.1" },
          { destination: "10.17.0.0", prefixLength: 16, gateway: "10.0.0.1" },
          { destination: "10.229.0.128", prefixLength: 25, gateway: "10.0.0.1" },
          { destination: "10.198.122.47", prefixLength: 32, gateway: "10.0.0.1" },
        ],
      },
    }),
    canonical: true,
  },
  {
    name: "unknown options kept raw in order, a 300-byte one split 255 + 45",
    bytes: message({}, [
      ...hex("35 01 01"),
      ...hex("39 02 0240"),
      ...hex("e0 ff"), ...new Array<number>(255).fill(7),
      ...hex("e0 2d"), ...new Array<number>(45).fill(7),
      0xff,
    ]),
    packet: packet({
      options: {
        messageType: 1,
        other: [
          { code: 57, data: Uint8Array.from(hex("0240")) },
          { code: 224, data: new Uint8Array(300).fill(7) },
        ],
      },
    }),
    canonical: true,
  },
  {
    name: "pads between options, no end option, no padding to 300",
    bytes: message({}, [0, 0, ...hex("35 01 07"), 0, ...hex("36 04 0a000201")], 0),
    packet: packet({ options: { messageType: 7, serverId: "10.0.2.1" } }),
    canonical: false,
  },
  {
    name: "option overload 3: options continue in file, then sname",
    bytes: message(
      {
        file: [...hex("0c 03"), ...ascii("abc"), 0xff],
        sname: [...hex("0c 02"), ...ascii("de"), ...hex("0f 01"), ...ascii("x"), 0xff],
      },
      [...hex("35 01 01 34 01 03"), 0xff],
    ),
    packet: packet({ options: { messageType: 1, hostname: "abcde", domainName: "x" } }),
    canonical: false,
  },
  {
    name: "option overload 1: sname stays a name",
    bytes: message({ file: [...hex("33 04 00000e10"), 0xff], sname: ascii("boot-server") }, [...hex("34 01 01"), 0xff]),
    packet: packet({ sname: "boot-server", options: { leaseTime: 3600 } }),
    canonical: false,
  },
  {
    name: "relayed reply with sname, file, hops, 16-byte chaddr",
    bytes: message(
      {
        op: 2,
        hops: 2,
        giaddr: "c0a80101",
        siaddr: "c0a80102",
        ciaddr: "0a000202",
        chaddr: "00112233445566778899aabbccddeeff",
        htype: 6,
        sname: ascii("srv"),
        file: ascii("pxelinux.0"),
      },
      [...hex("35 01 05"), 0xff],
    ),
    packet: packet({
      op: 2,
      hops: 2,
      htype: 6,
      giaddr: "192.168.1.1",
      siaddr: "192.168.1.2",
      ciaddr: "10.0.2.2",
      chaddr: Uint8Array.from(hex("00112233445566778899aabbccddeeff")),
      sname: "srv",
      file: "pxelinux.0",
      options: { messageType: 5 },
    }),
    canonical: true,
  },
];

describe("decode", () => {
  for (const c of cases) {
    test(c.name, () => {
      const r = decode(c.bytes);
      if (!r.ok) throw r.error;
      expect(r.packet).toEqual(c.packet);
    });
  }
});

describe("encode", () => {
  for (const c of cases.filter((c) => c.canonical)) {
    test(c.name, () => {
      expect(Array.from(encode(c.packet))).toEqual(Array.from(c.bytes));
    });
  }

  test("header fields land at their RFC 2131 offsets", () => {
    const b = encode(packet({ op: 2, xid: 0xdeadbeef, secs: 0x0102, flags: 0x8000, yiaddr: "10.0.2.2", options: { messageType: 2 } }));
    expect(b.length).toBe(300);
    expect(Array.from(b.subarray(0, 4))).toEqual([2, 1, 6, 0]);
    expect(Array.from(b.subarray(4, 12))).toEqual(hex("deadbeef 0102 8000"));
    expect(Array.from(b.subarray(16, 20))).toEqual([10, 0, 2, 2]);
    expect(Array.from(b.subarray(28, 34))).toEqual(Array.from(MAC));
    expect(Array.from(b.subarray(236, 244))).toEqual(hex("63825363 350102 ff"));
  });

  test.each([
    ["an address that is not IPv4", packet({ yiaddr: "10.0.2" }), /yiaddr "10.0.2"/],
    ["a 17-byte chaddr", packet({ chaddr: new Uint8Array(17) }), /chaddr/],
    ["an xid over 32 bits", packet({ xid: 2 ** 32 }), /xid/],
    ["a 65-byte sname", packet({ sname: "x".repeat(65) }), /sname/],
    ["a NUL in file", packet({ file: "a\0b" }), /file/],
    ["a hostname outside latin1", packet({ options: { hostname: "vm\u20ac" } }), /option 12/],
    ["an MTU over 16 bits", packet({ options: { interfaceMtu: 70000 } }), /option 26/],
    ["a DNS server that is not IPv4", packet({ options: { dnsServers: ["::1"] } }), /option 6: "::1"/],
    ["a search domain with an empty label", packet({ options: { domainSearch: ["a..b"] } }), /option 119/],
    ["a raw option using a typed code", packet({ options: { other: [{ code: 1, data: new Uint8Array(4) }] } }), /raw option code "1"/],
    ["a raw option using the overload code", packet({ options: { other: [{ code: 52, data: new Uint8Array(1) }] } }), /"52"/],
  ])("refuses %s", (_name, p, message) => {
    expect(() => encode(p)).toThrow(DhcpEncodeError);
    expect(() => encode(p)).toThrow(message);
  });
});

describe("decode errors", () => {
  const header = (options: number[]): Uint8Array => message({}, options, 0);
  const errors: [string, Uint8Array, DecodeErrorCode][] = [
    ["empty input", new Uint8Array(0), "truncated"],
    ["a header without cookie", header([]).subarray(0, 239), "truncated"],
    ["hlen 17", message({ hlen: 17 }, [0xff]), "bad-hardware-length"],
    ["a BOOTP vendor area without the cookie", Uint8Array.from([...header([0xff]).subarray(0, 236), 1, 2, 3, 4, 0xff]), "bad-magic-cookie"],
    ["an option without its length byte", header([0x35]), "truncated-option"],
    ["an option running past the end", header(hex("0c 05 6162")), "truncated-option"],
    ["a subnet mask of 3 bytes", header(hex("01 03 ffffff ff")), "bad-option-length"],
    ["a router list of 6 bytes", header(hex("03 06 0a0002010a00 ff")), "bad-option-length"],
    ["a message type of 2 bytes", header(hex("35 02 0101 ff")), "bad-option-length"],
    ["overload value 4", header(hex("34 01 04 ff")), "bad-option-value"],
    ["overload of 2 bytes", header(hex("34 02 0101 ff")), "bad-option-value"],
    ["an overloaded file with a truncated option", message({ file: hex("0c 7f") }, hex("34 01 01 ff")), "truncated-option"],
    ["a search list pointing forward", header(hex("77 04 c002 0000 ff")), "bad-domain-name"],
    ["a search list pointing at itself", header(hex("77 02 c000 ff")), "bad-domain-name"],
    ["a search list pointer loop", header(hex("77 06 01 61 c000 c002 ff")), "bad-domain-name"],
    ["a search list label past the end", header(hex("77 03 05 6162 ff")), "bad-domain-name"],
    ["a search list without the final zero", header(hex("77 02 01 61 ff")), "bad-domain-name"],
    ["a search list with label type 01", header(hex("77 02 4000 ff")), "bad-domain-name"],
    ["a search label with a dot", header(hex("77 05 03 612e62 00 ff")), "bad-domain-name"],
    ["a static route width 33", header(hex("79 09 21 0a000001 0a000001 ff")), "bad-static-route"],
    ["a static route without its router", header(hex("79 03 08 0a 0a ff")), "bad-static-route"],
  ];
  test.each(errors)("%s", (_name, bytes, code) => {
    const r = decode(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.message).toStartWith("Cannot decode DHCP packet: ");
    }
  });

  test("a search name over 255 bytes (long labels behind compression pointers)", () => {
    const label = [63, ...new Array<number>(63).fill(0x61)];
    // Names at 0, 65, 131, 197: each one more 63-byte label in front of the
    // previous name; the fourth is 4 * 64 + 1 = 257 bytes on the wire.
    const data = [...label, 0, ...label, 0xc0, 0, ...label, 0xc0, 65, ...label, 0xc0, 131];
    expect(data.length).toBe(263);
    const r = decode(header([0x77, 255, ...data.slice(0, 255), 0x77, 8, ...data.slice(255), 0xff]));
    expect(r.ok ? "ok" : r.error.code).toBe("bad-domain-name");
  });
});

test("clientMac reads Ethernet chaddr only", () => {
  expect(clientMac(packet({}))).toBe("02:00:00:00:00:01");
  expect(clientMac(packet({ htype: 6 }))).toBeNull();
  expect(clientMac(packet({ chaddr: new Uint8Array(8) }))).toBeNull();
});
