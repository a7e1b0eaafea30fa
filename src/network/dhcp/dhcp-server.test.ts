/**
 * The I/O edge over loopback: a real UDP socket on 127.0.0.1 (ephemeral
 * ports, no root), a fake link that records what would be done to the bridge.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { DhcpLink } from "./link.ts";
import type { LeaseConfig } from "./lease-config.ts";
import { MessageType } from "./options.ts";
import { type DhcpPacket, decode, encode } from "./packet.ts";
import { type DhcpServer, startDhcpServer } from "./dhcp-server.ts";

const LEASE: LeaseConfig = {
  clientMac: "02:00:00:00:00:01",
  address: "127.0.0.1",
  prefixLength: 8,
  router: "127.0.0.2",
  dns: ["127.0.0.53"],
  searchDomains: ["cluster.local"],
  mtu: 1500,
  leaseSeconds: 600,
  serverId: "127.0.0.1",
};

function fakeLink(connected: boolean, failOn?: keyof DhcpLink): DhcpLink & { calls: string[] } {
  const calls: string[] = [];
  const step = (name: keyof DhcpLink, ...args: string[]): Promise<void> => {
    calls.push(`${name} ${args.join(" ")}`);
    return failOn === name ? Promise.reject(new Error(`${name} failed`)) : Promise.resolve();
  };
  return {
    calls,
    hasConnectedRoute: async (iface, address) => {
      calls.push(`hasConnectedRoute ${iface} ${address}`);
      return connected;
    },
    addHostRoute: (iface, address) => step("addHostRoute", iface, address),
    removeHostRoute: (iface, address) => step("removeHostRoute", iface, address),
    setPermanentNeighbour: (iface, address, mac) => step("setPermanentNeighbour", iface, address, mac),
    removeNeighbour: (iface, address) => step("removeNeighbour", iface, address),
  };
}

function discover(xid: number, mac: number[]): Uint8Array {
  const p: DhcpPacket = {
    op: 1, htype: 1, hops: 0, xid, secs: 0, flags: 0,
    ciaddr: "0.0.0.0", yiaddr: "0.0.0.0", siaddr: "0.0.0.0", giaddr: "0.0.0.0",
    chaddr: Uint8Array.from(mac), sname: "", file: "",
    options: { messageType: MessageType.DISCOVER, parameterRequestList: [6, 26] },
  };
  return encode(p);
}

/** A client socket collecting replies. */
async function client(): Promise<{ port: number; next(): Promise<Uint8Array>; send(b: Uint8Array, port: number): void; close(): void }> {
  const queue: Uint8Array[] = [];
  const waiters: ((b: Uint8Array) => void)[] = [];
  const sock = await Bun.udpSocket({
    hostname: "127.0.0.1",
    port: 0,
    binaryType: "uint8array",
    socket: {
      data(_s, data) {
        const w = waiters.shift();
        if (w !== undefined) w(data);
        else queue.push(data);
      },
    },
  });
  return {
    port: sock.port,
    next: () => {
      const b = queue.shift();
      return b !== undefined ? Promise.resolve(b) : new Promise((resolve) => waiters.push(resolve));
    },
    send: (b, port) => void sock.send(b, port, "127.0.0.1"),
    close: () => sock.close(),
  };
}

describe("startDhcpServer", () => {
  let server: DhcpServer | null = null;
  afterEach(async () => {
    await server?.stop();
    server = null;
  });

  test("prepares the link, answers our client by unicast to the lease address, logs, undoes on stop", async () => {
    const link = fakeLink(false);
    const lines: string[] = [];
    const c = await client();
    try {
      server = await startDhcpServer(
        { ...LEASE, clientMac: "02:00:00:00:00:01".toUpperCase() },
        { iface: "br0", link, logger: (l) => lines.push(l), hostname: "127.0.0.1", port: 0, clientPort: c.port },
      );
      expect(link.calls).toEqual([
        "hasConnectedRoute br0 127.0.0.1",
        "addHostRoute br0 127.0.0.1",
        "setPermanentNeighbour br0 127.0.0.1 02:00:00:00:00:01",
      ]);
      c.send(Uint8Array.of(1, 2, 3), server.port); // malformed: logged, no reply
      c.send(discover(1, [2, 0, 0, 0, 0, 2]), server.port); // foreign MAC: silent
      c.send(discover(2, [2, 0, 0, 0, 0, 1]), server.port);
      const reply = decode(await c.next());
      if (!reply.ok) throw reply.error;
      expect(reply.packet.xid).toBe(2);
      expect(reply.packet.yiaddr).toBe("127.0.0.1");
      expect(reply.packet.options).toMatchObject({ messageType: MessageType.OFFER, dnsServers: ["127.0.0.53"], interfaceMtu: 1500 });
      expect(lines[0]).toStartWith("dhcp dropped 3 bytes from 127.0.0.1:");
      expect(lines.slice(1)).toEqual(["dhcp DISCOVER -> OFFER mac=02:00:00:00:00:01 address=127.0.0.1"]);

      await server.stop();
      await server.stop(); // idempotent
      server = null;
      expect(link.calls.slice(3)).toEqual(["removeNeighbour br0 127.0.0.1", "removeHostRoute br0 127.0.0.1"]);
    } finally {
      c.close();
    }
  });

  test("adds no route when one is connected, so removes none", async () => {
    const link = fakeLink(true);
    server = await startDhcpServer(LEASE, { iface: "br0", link, hostname: "127.0.0.1", port: 0 });
    await server.stop();
    server = null;
    expect(link.calls).toEqual([
      "hasConnectedRoute br0 127.0.0.1",
      "setPermanentNeighbour br0 127.0.0.1 02:00:00:00:00:01",
      "removeNeighbour br0 127.0.0.1",
    ]);
  });

  test("refuses an invalid config before touching the link", async () => {
    const link = fakeLink(false);
    const start = startDhcpServer({ ...LEASE, address: "127.0.0", mtu: 10 }, { iface: "br0", link, port: 0 });
    await expect(start).rejects.toThrow(
      'Cannot start DHCP server on "br0": address "127.0.0" is not an IPv4 address; mtu "10" is not in 68..65535',
    );
    expect(link.calls).toEqual([]);
  });

  test("undoes the route when the neighbour entry fails", async () => {
    const link = fakeLink(false, "setPermanentNeighbour");
    const start = startDhcpServer(LEASE, { iface: "br0", link, hostname: "127.0.0.1", port: 0 });
    await expect(start).rejects.toThrow('Cannot start DHCP server on "br0" for "127.0.0.1": setPermanentNeighbour failed');
    expect(link.calls.at(-1)).toBe("removeHostRoute br0 127.0.0.1");
  });

  test("undoes the link when the port is taken", async () => {
    const c = await client();
    const link = fakeLink(false);
    try {
      const start = startDhcpServer(LEASE, { iface: "br0", link, hostname: "127.0.0.1", port: c.port });
      await expect(start).rejects.toThrow('Cannot start DHCP server on "br0"');
      expect(link.calls.slice(-2)).toEqual(["removeNeighbour br0 127.0.0.1", "removeHostRoute br0 127.0.0.1"]);
    } finally {
      c.close();
    }
  });

  test("stop reports cleanup failures after trying every step", async () => {
    const link = fakeLink(false, "removeNeighbour");
    const s = await startDhcpServer(LEASE, { iface: "br0", link, hostname: "127.0.0.1", port: 0 });
    await expect(s.stop()).rejects.toThrow('Cannot stop DHCP server on "br0" cleanly: 1 cleanup step(s) failed');
    expect(link.calls.slice(-2)).toEqual(["removeNeighbour br0 127.0.0.1", "removeHostRoute br0 127.0.0.1"]);
  });
});
