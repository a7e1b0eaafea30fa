/**
 * The server's decisions (RFC 2131 section 4.3) for a single client: given a
 * decoded request and the lease, what to send back. Pure.
 *
 * Deliberate choices:
 * - Only the configured MAC is served; BOOTREPLY, non-Ethernet and foreign
 *   chaddr packets are "ignored" (not even worth a log line).
 * - A SELECTING request naming another server identifier is refused with a
 *   NAK (RFC 2131 would stay silent; there is no other server on a VM's
 *   bridge, so a NAK restarts a confused client sooner).
 * - Relayed packets (giaddr set) are not answered: the VM is on the bridge.
 * - Options: 53, 54, 1, 3 (when a router is set) and, for leases, 51 always;
 *   everything else only when listed in the client's option 55. Option 61 is
 *   echoed (RFC 6842). When option 121 is sent and the router is set, a
 *   0.0.0.0/0 route via the router is appended unless one is configured,
 *   since RFC 3442 clients ignore option 3 when they get option 121.
 */
import type { ClasslessRoute } from "./classless-routes.ts";
import { broadcastAddress, prefixToNetmask } from "../ipv4.ts";
import { INFINITE_LEASE, type LeaseConfig } from "./lease-config.ts";
import { normalizeMac } from "../../api/mac.ts";
import { BOOTREPLY, BOOTREQUEST, type DhcpPacket, clientMac } from "./packet.ts";
import { type DhcpOptions, MessageType, OptionCode, messageTypeName } from "./options.ts";

const ZERO = "0.0.0.0";

export interface Exchange {
  /**
   * "reply": send `reply`; "silent": a request from our client that needs no
   * reply (RELEASE, DECLINE, ...); "ignored": not for this server.
   */
  kind: "reply" | "silent" | "ignored";
  /** Request type name: "DISCOVER", "REQUEST", ... ("BOOTP" without option 53). */
  request: string;
  /** chaddr as a MAC, null when it is not an Ethernet address. */
  mac: string | null;
  /** The address concerned: offered/acknowledged, or the one refused/released. */
  address: string;
  reply: DhcpPacket | null;
  /** Why there is a NAK or no reply. */
  note?: string;
}

function wants(request: DhcpPacket): (code: number) => boolean {
  const prl = new Set(request.options.parameterRequestList ?? []);
  return (code) => prl.has(code);
}

function routesFor(lease: LeaseConfig): ClasslessRoute[] {
  const routes = [...(lease.classlessRoutes ?? [])];
  if (lease.router !== undefined && routes.length > 0 && !routes.some((r) => r.prefixLength === 0)) {
    routes.push({ destination: ZERO, prefixLength: 0, gateway: lease.router });
  }
  return routes;
}

function configOptions(request: DhcpPacket, lease: LeaseConfig, type: number, withLease: boolean): DhcpOptions {
  const asked = wants(request);
  const o: DhcpOptions = { messageType: type, serverId: lease.serverId, subnetMask: prefixToNetmask(lease.prefixLength) };
  if (lease.router !== undefined) o.routers = [lease.router];
  if (withLease) {
    o.leaseTime = lease.leaseSeconds;
    if (lease.leaseSeconds !== INFINITE_LEASE) {
      if (asked(OptionCode.RENEWAL_TIME)) o.renewalTime = Math.floor(lease.leaseSeconds / 2);
      if (asked(OptionCode.REBINDING_TIME)) o.rebindingTime = Math.floor((lease.leaseSeconds * 7) / 8);
    }
  }
  if (asked(OptionCode.DNS_SERVERS) && lease.dns.length > 0) o.dnsServers = [...lease.dns];
  if (asked(OptionCode.HOSTNAME) && lease.hostname !== undefined) o.hostname = lease.hostname;
  const domain = lease.domainName ?? lease.searchDomains[0];
  if (asked(OptionCode.DOMAIN_NAME) && domain !== undefined) o.domainName = domain;
  if (asked(OptionCode.DOMAIN_SEARCH) && lease.searchDomains.length > 0) o.domainSearch = [...lease.searchDomains];
  if (asked(OptionCode.INTERFACE_MTU)) o.interfaceMtu = lease.mtu;
  const broadcast = broadcastAddress(lease.address, lease.prefixLength);
  if (asked(OptionCode.BROADCAST_ADDRESS) && broadcast !== null) o.broadcastAddress = broadcast;
  const routes = routesFor(lease);
  if (asked(OptionCode.CLASSLESS_ROUTES) && routes.length > 0) o.classlessRoutes = routes;
  if (request.options.clientId !== undefined) o.clientId = request.options.clientId;
  return o;
}

function header(request: DhcpPacket, fields: { ciaddr: string; yiaddr: string }, options: DhcpOptions): DhcpPacket {
  return {
    op: BOOTREPLY,
    htype: request.htype,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: request.flags,
    ciaddr: fields.ciaddr,
    yiaddr: fields.yiaddr,
    siaddr: ZERO,
    giaddr: request.giaddr,
    chaddr: request.chaddr,
    sname: "",
    file: "",
    options,
  };
}

function nak(request: DhcpPacket, lease: LeaseConfig, base: Omit<Exchange, "kind" | "reply">, note: string): Exchange {
  const options: DhcpOptions = { messageType: MessageType.NAK, serverId: lease.serverId, message: note };
  if (request.options.clientId !== undefined) options.clientId = request.options.clientId;
  return { ...base, kind: "reply", reply: header(request, { ciaddr: ZERO, yiaddr: ZERO }, options), note };
}

function grant(request: DhcpPacket, config: LeaseConfig, type: number, base: Omit<Exchange, "kind" | "reply">): Exchange {
  const ciaddr = type === MessageType.ACK ? request.ciaddr : ZERO;
  const reply = header(request, { ciaddr, yiaddr: config.address }, configOptions(request, config, type, true));
  return { ...base, address: config.address, kind: "reply", reply };
}

/** Decides the reply to `request` for the single client described by `config`. */
export function respond(request: DhcpPacket, config: LeaseConfig): Exchange {
  const type = request.options.messageType;
  const mac = clientMac(request);
  const base = { request: messageTypeName(type), mac, address: config.address };
  if (request.op !== BOOTREQUEST) return { ...base, kind: "ignored", reply: null, note: "not a BOOTREQUEST" };
  if (mac === null || mac !== normalizeMac(config.clientMac)) {
    return { ...base, kind: "ignored", reply: null, note: "not the configured client" };
  }
  if (request.giaddr !== ZERO) {
    return { ...base, kind: "silent", reply: null, note: `relayed by "${request.giaddr}", relays are not served` };
  }
  const requested = request.options.requestedIp;
  switch (type) {
    case MessageType.DISCOVER:
      return grant(request, config, MessageType.OFFER, base);
    case MessageType.REQUEST: {
      const sid = request.options.serverId;
      if (sid !== undefined) {
        // SELECTING: answering our (or someone's) OFFER.
        if (sid !== config.serverId) {
          return nak(request, config, base, `server identifier "${sid}" is not this server's "${config.serverId}"`);
        }
        if (requested === undefined) return nak(request, config, base, "request names no address (no option 50)");
        if (requested !== config.address) {
          return nak(request, config, { ...base, address: requested }, `requested address "${requested}" is not the lease "${config.address}"`);
        }
        return grant(request, config, MessageType.ACK, base);
      }
      if (requested !== undefined) {
        // INIT-REBOOT: verifying a remembered address.
        if (requested !== config.address) {
          return nak(request, config, { ...base, address: requested }, `requested address "${requested}" is not the lease "${config.address}"`);
        }
        return grant(request, config, MessageType.ACK, base);
      }
      if (request.ciaddr !== ZERO) {
        // RENEWING / REBINDING: extending the lease on ciaddr.
        if (request.ciaddr !== config.address) {
          return nak(request, config, { ...base, address: request.ciaddr }, `client address "${request.ciaddr}" is not the lease "${config.address}"`);
        }
        return grant(request, config, MessageType.ACK, base);
      }
      return nak(request, config, base, "request names no address (no option 50, no ciaddr)");
    }
    case MessageType.INFORM: {
      // Configuration only: no lease time, no yiaddr (RFC 2131 section 3.4).
      const reply = header(request, { ciaddr: request.ciaddr, yiaddr: ZERO }, configOptions(request, config, MessageType.ACK, false));
      return { ...base, address: request.ciaddr, kind: "reply", reply };
    }
    case MessageType.RELEASE:
      return { ...base, address: request.ciaddr, kind: "silent", reply: null };
    case MessageType.DECLINE:
      return { ...base, address: requested ?? config.address, kind: "silent", reply: null, note: "the client reports the address in use" };
    default:
      return { ...base, kind: "silent", reply: null, note: "message type not served" };
  }
}
