/**
 * Per-VM DHCPv4 server: serves one MAC on one interface (the pod's bridge),
 * like the DHCP server in KubeVirt's virt-launcher.
 */
export { startDhcpServer, SERVER_PORT, CLIENT_PORT } from "./dhcp-server.ts";
export type { DhcpServer, DhcpServerOptions } from "./dhcp-server.ts";
export { ipCommandLink, routesCover } from "./link.ts";
export type { DhcpLink } from "./link.ts";
export { respond } from "./responder.ts";
export type { Exchange } from "./responder.ts";
export { leaseConfigProblems, INFINITE_LEASE } from "./lease-config.ts";
export type { LeaseConfig } from "./lease-config.ts";
export { parseResolvConf } from "./resolv-conf.ts";
export type { ResolvConf } from "./resolv-conf.ts";
export { decode, encode, clientMac, BOOTREQUEST, BOOTREPLY, FLAG_BROADCAST } from "./packet.ts";
export type { DhcpPacket, DecodeResult } from "./packet.ts";
export { MessageType, OptionCode, messageTypeName } from "./options.ts";
export type { DhcpOptions, RawOption } from "./options.ts";
export type { ClasslessRoute } from "./classless-routes.ts";
export { DhcpDecodeError, DhcpEncodeError } from "./errors.ts";
export type { DecodeErrorCode } from "./errors.ts";
