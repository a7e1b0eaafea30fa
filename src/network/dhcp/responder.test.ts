import { describe, expect, test } from "bun:test";
import type { LeaseConfig } from "./lease-config.ts";
import { type DhcpOptions, MessageType, OptionCode } from "./options.ts";
import { type DhcpPacket, FLAG_BROADCAST } from "./packet.ts";
import { respond } from "./responder.ts";

const LEASE: LeaseConfig = {
  clientMac: "02:00:00:00:00:01",
  address: "10.0.2.2",
  prefixLength: 24,
  router: "10.0.2.1",
  dns: ["10.96.0.10"],
  searchDomains: ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"],
  hostname: "vm1",
  mtu: 1450,
  leaseSeconds: 86400,
  serverId: "10.0.2.1",
  classlessRoutes: [{ destination: "10.96.0.0", prefixLength: 12, gateway: "10.0.2.1" }],
};

const ALL = [1, 3, 6, 12, 15, 26, 28, 58, 59, 119, 121];
const CLIENT_ID = Uint8Array.of(1, 2, 0, 0, 0, 0, 1);

function request(type: number | undefined, over: Partial<DhcpPacket> = {}, options: DhcpOptions = {}): DhcpPacket {
  return {
    op: 1,
    htype: 1,
    hops: 0,
    xid: 0xcafe,
    secs: 4,
    flags: 0,
    ciaddr: "0.0.0.0",
    yiaddr: "0.0.0.0",
    siaddr: "0.0.0.0",
    giaddr: "0.0.0.0",
    chaddr: Uint8Array.of(2, 0, 0, 0, 0, 1),
    sname: "",
    file: "",
    ...over,
    options: { ...(type === undefined ? {} : { messageType: type }), ...options },
  };
}

const FULL_OPTIONS: DhcpOptions = {
  serverId: "10.0.2.1",
  subnetMask: "255.255.255.0",
  routers: ["10.0.2.1"],
  dnsServers: ["10.96.0.10"],
  hostname: "vm1",
  domainName: "default.svc.cluster.local",
  interfaceMtu: 1450,
  broadcastAddress: "10.0.2.255",
  leaseTime: 86400,
  renewalTime: 43200,
  rebindingTime: 75600,
  domainSearch: ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"],
  classlessRoutes: [
    { destination: "10.96.0.0", prefixLength: 12, gateway: "10.0.2.1" },
    { destination: "0.0.0.0", prefixLength: 0, gateway: "10.0.2.1" },
  ],
};

describe("DISCOVER", () => {
  test("gets an OFFER of the lease with every requested option", () => {
    const ex = respond(request(MessageType.DISCOVER, { flags: FLAG_BROADCAST }, { parameterRequestList: ALL }), LEASE);
    expect(ex).toMatchObject({ kind: "reply", request: "DISCOVER", mac: "02:00:00:00:00:01", address: "10.0.2.2" });
    expect(ex.reply).toEqual({
      op: 2,
      htype: 1,
      hops: 0,
      xid: 0xcafe,
      secs: 0,
      flags: FLAG_BROADCAST,
      ciaddr: "0.0.0.0",
      yiaddr: "10.0.2.2",
      siaddr: "0.0.0.0",
      giaddr: "0.0.0.0",
      chaddr: Uint8Array.of(2, 0, 0, 0, 0, 1),
      sname: "",
      file: "",
      options: { messageType: MessageType.OFFER, ...FULL_OPTIONS },
    });
  });

  test("without option 55 only the mandatory options are sent", () => {
    const ex = respond(request(MessageType.DISCOVER), LEASE);
    expect(ex.reply?.options).toEqual({
      messageType: MessageType.OFFER,
      serverId: "10.0.2.1",
      subnetMask: "255.255.255.0",
      routers: ["10.0.2.1"],
      leaseTime: 86400,
    });
  });

  test("each option appears only when asked for", () => {
    const fields: [number, keyof DhcpOptions][] = [
      [OptionCode.DNS_SERVERS, "dnsServers"],
      [OptionCode.HOSTNAME, "hostname"],
      [OptionCode.DOMAIN_NAME, "domainName"],
      [OptionCode.INTERFACE_MTU, "interfaceMtu"],
      [OptionCode.BROADCAST_ADDRESS, "broadcastAddress"],
      [OptionCode.RENEWAL_TIME, "renewalTime"],
      [OptionCode.REBINDING_TIME, "rebindingTime"],
      [OptionCode.DOMAIN_SEARCH, "domainSearch"],
      [OptionCode.CLASSLESS_ROUTES, "classlessRoutes"],
    ];
    for (const [code, field] of fields) {
      const options = respond(request(MessageType.DISCOVER, {}, { parameterRequestList: [code] }), LEASE).reply?.options ?? {};
      expect(Object.keys(options).sort()).toEqual(["leaseTime", "messageType", "routers", "serverId", "subnetMask", field].sort());
    }
  });

  test("no router, no DNS, no search list, no routes, /32, infinite lease: those options stay out", () => {
    const bare: LeaseConfig = {
      clientMac: "02:00:00:00:00:01",
      address: "10.0.2.2",
      prefixLength: 32,
      dns: [],
      searchDomains: [],
      mtu: 1500,
      leaseSeconds: 0xffffffff,
      serverId: "10.0.2.1",
    };
    const ex = respond(request(MessageType.DISCOVER, {}, { parameterRequestList: ALL }), bare);
    expect(ex.reply?.options).toEqual({
      messageType: MessageType.OFFER,
      serverId: "10.0.2.1",
      subnetMask: "255.255.255.255",
      interfaceMtu: 1500,
      leaseTime: 0xffffffff,
    });
  });

  test("explicit domain name wins over the first search domain; a configured default route is not doubled", () => {
    const ex = respond(request(MessageType.DISCOVER, {}, { parameterRequestList: ALL }), {
      ...LEASE,
      domainName: "example.org",
      classlessRoutes: [{ destination: "0.0.0.0", prefixLength: 0, gateway: "10.0.2.254" }],
    });
    expect(ex.reply?.options.domainName).toBe("example.org");
    expect(ex.reply?.options.classlessRoutes).toEqual([{ destination: "0.0.0.0", prefixLength: 0, gateway: "10.0.2.254" }]);
  });

  test("echoes the client identifier (RFC 6842) and offers the lease whatever option 50 says", () => {
    const ex = respond(request(MessageType.DISCOVER, {}, { clientId: CLIENT_ID, requestedIp: "10.0.2.99" }), LEASE);
    expect(ex.reply?.yiaddr).toBe("10.0.2.2");
    expect(ex.reply?.options.clientId).toEqual(CLIENT_ID);
  });
});

describe("REQUEST", () => {
  const ack = (over: Partial<DhcpPacket>, options: DhcpOptions): void => {
    const ex = respond(request(MessageType.REQUEST, over, { parameterRequestList: ALL, ...options }), LEASE);
    expect(ex.kind).toBe("reply");
    expect(ex.address).toBe("10.0.2.2");
    expect(ex.reply?.options).toEqual({ messageType: MessageType.ACK, ...FULL_OPTIONS });
    expect(ex.reply?.yiaddr).toBe("10.0.2.2");
    expect(ex.reply?.ciaddr).toBe(over.ciaddr ?? "0.0.0.0");
    expect(ex.reply?.xid).toBe(0xcafe);
  };
  const nak = (over: Partial<DhcpPacket>, options: DhcpOptions, address: string, note: RegExp): void => {
    const ex = respond(request(MessageType.REQUEST, over, { parameterRequestList: ALL, clientId: CLIENT_ID, ...options }), LEASE);
    expect(ex.kind).toBe("reply");
    expect(ex.address).toBe(address);
    expect(ex.note).toMatch(note);
    expect(ex.reply).toMatchObject({ op: 2, xid: 0xcafe, ciaddr: "0.0.0.0", yiaddr: "0.0.0.0", siaddr: "0.0.0.0" });
    expect(ex.reply?.options).toEqual({
      messageType: MessageType.NAK,
      serverId: "10.0.2.1",
      message: ex.note,
      clientId: CLIENT_ID,
    });
  };

  test("SELECTING with our server id and the offered address: ACK", () => {
    ack({}, { serverId: "10.0.2.1", requestedIp: "10.0.2.2" });
  });
  test("SELECTING another address: NAK", () => {
    nak({}, { serverId: "10.0.2.1", requestedIp: "10.0.2.3" }, "10.0.2.3", /requested address "10.0.2.3" is not the lease "10.0.2.2"/);
  });
  test("SELECTING with another server id: NAK", () => {
    nak({}, { serverId: "10.0.2.254", requestedIp: "10.0.2.2" }, "10.0.2.2", /server identifier "10.0.2.254" is not this server's "10.0.2.1"/);
  });
  test("SELECTING without option 50: NAK", () => {
    nak({}, { serverId: "10.0.2.1" }, "10.0.2.2", /no option 50/);
  });
  test("INIT-REBOOT with the lease address: ACK", () => {
    ack({}, { requestedIp: "10.0.2.2" });
  });
  test("INIT-REBOOT with an address from another network: NAK", () => {
    nak({}, { requestedIp: "192.168.1.50" }, "192.168.1.50", /"192.168.1.50" is not the lease/);
  });
  test("RENEWING on the lease address: ACK with ciaddr", () => {
    ack({ ciaddr: "10.0.2.2" }, {});
  });
  test("RENEWING another address: NAK", () => {
    nak({ ciaddr: "10.0.2.7" }, {}, "10.0.2.7", /client address "10.0.2.7" is not the lease/);
  });
  test("no address anywhere: NAK", () => {
    nak({}, {}, "10.0.2.2", /no option 50, no ciaddr/);
  });
});

describe("no reply", () => {
  test.each([
    ["RELEASE", MessageType.RELEASE, { ciaddr: "10.0.2.2" }, {}, "10.0.2.2"],
    ["DECLINE", MessageType.DECLINE, {}, { requestedIp: "10.0.2.2", serverId: "10.0.2.1" }, "10.0.2.2"],
    ["an unknown type", 42, {}, {}, "10.0.2.2"],
    ["a server's OFFER type from a client", MessageType.OFFER, {}, {}, "10.0.2.2"],
    ["a relayed DISCOVER", MessageType.DISCOVER, { giaddr: "10.0.9.1" }, {}, "10.0.2.2"],
  ] as const)("%s is silent", (_name, type, over, options, address) => {
    const ex = respond(request(type, over, options), LEASE);
    expect(ex).toMatchObject({ kind: "silent", reply: null, address, mac: "02:00:00:00:00:01" });
  });

  test.each([
    ["a foreign MAC", request(MessageType.DISCOVER, { chaddr: Uint8Array.of(2, 0, 0, 0, 0, 2) })],
    ["a BOOTREPLY", request(MessageType.OFFER, { op: 2 })],
    ["a non-Ethernet chaddr", request(MessageType.DISCOVER, { htype: 6 })],
    ["a 16-byte chaddr", request(MessageType.DISCOVER, { chaddr: new Uint8Array(16) })],
    ["a REQUEST from a foreign MAC", request(MessageType.REQUEST, { chaddr: Uint8Array.of(2, 0, 0, 0, 0, 2) }, { requestedIp: "10.0.2.2" })],
  ])("%s is ignored", (_name, req) => {
    expect(respond(req, LEASE)).toMatchObject({ kind: "ignored", reply: null });
  });

  test("MAC comparison ignores case in the config", () => {
    expect(respond(request(MessageType.DISCOVER), { ...LEASE, clientMac: "02:00:00:00:00:01".toUpperCase() }).kind).toBe("reply");
  });

  test("BOOTP (no option 53) is silent", () => {
    expect(respond(request(undefined), LEASE)).toMatchObject({ kind: "silent", request: "BOOTP" });
  });
});

describe("INFORM", () => {
  test("ACK with configuration, ciaddr kept, no yiaddr and no lease times", () => {
    const ex = respond(request(MessageType.INFORM, { ciaddr: "10.0.2.2" }, { parameterRequestList: ALL }), LEASE);
    expect(ex.kind).toBe("reply");
    expect(ex.reply?.ciaddr).toBe("10.0.2.2");
    expect(ex.reply?.yiaddr).toBe("0.0.0.0");
    const { leaseTime: _l, renewalTime: _t1, rebindingTime: _t2, ...rest } = FULL_OPTIONS;
    expect(ex.reply?.options).toEqual({ messageType: MessageType.ACK, ...rest });
  });
});
