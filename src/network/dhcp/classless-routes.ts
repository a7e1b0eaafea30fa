/**
 * Option 121, Classless Static Route (RFC 3442): for each route the prefix
 * width (0..32), the significant octets of the destination (ceil(width / 8)),
 * then the 4 octets of the router.
 */
import { type Decoded, DhcpEncodeError, decoded, failed } from "./errors.ts";
import { parseIPv4, readIPv4 } from "../ipv4.ts";

export interface ClasslessRoute {
  destination: string;
  prefixLength: number;
  gateway: string;
}

export function encodeClasslessRoutes(routes: readonly ClasslessRoute[]): Uint8Array {
  const out: number[] = [];
  for (const r of routes) {
    const dst = parseIPv4(r.destination);
    const gw = parseIPv4(r.gateway);
    if (dst === null || gw === null || !Number.isInteger(r.prefixLength) || r.prefixLength < 0 || r.prefixLength > 32) {
      throw new DhcpEncodeError(
        `option 121: route "${r.destination}/${r.prefixLength} via ${r.gateway}" is not an IPv4 prefix and gateway`,
      );
    }
    out.push(r.prefixLength);
    const significant = Math.ceil(r.prefixLength / 8);
    for (let i = 0; i < significant; i++) out.push((dst >>> (24 - 8 * i)) & 0xff);
    out.push(gw >>> 24, (gw >>> 16) & 0xff, (gw >>> 8) & 0xff, gw & 0xff);
  }
  return Uint8Array.from(out);
}

export function decodeClasslessRoutes(data: Uint8Array): Decoded<ClasslessRoute[]> {
  const routes: ClasslessRoute[] = [];
  let pos = 0;
  while (pos < data.length) {
    const width = data[pos] ?? 0;
    if (width > 32) return failed("bad-static-route", `option 121: prefix width ${width} is over 32`, pos);
    const significant = Math.ceil(width / 8);
    if (pos + 1 + significant + 4 > data.length) {
      return failed("bad-static-route", `option 121: route at offset ${pos} runs past the end`, pos);
    }
    const dst = [0, 0, 0, 0];
    for (let i = 0; i < significant; i++) dst[i] = data[pos + 1 + i] ?? 0;
    routes.push({
      destination: dst.join("."),
      prefixLength: width,
      gateway: readIPv4(data, pos + 1 + significant),
    });
    pos += 1 + significant + 4;
  }
  return decoded(routes);
}
