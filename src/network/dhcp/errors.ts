/**
 * Typed errors of the DHCP codec. Decoding never throws: it returns a
 * `Decoded<T>` whose error side carries a `DhcpDecodeError`. Encoding throws
 * `DhcpEncodeError` for packets that cannot be put on the wire (an invalid
 * address string, an over-long name): those are programming or configuration
 * errors, caught early by `validateLeaseConfig`.
 */

export type DecodeErrorCode =
  | "truncated"
  | "bad-hardware-length"
  | "bad-magic-cookie"
  | "truncated-option"
  | "bad-option-length"
  | "bad-option-value"
  | "bad-domain-name"
  | "bad-static-route"
  | "internal";

export class DhcpDecodeError extends Error {
  override readonly name = "DhcpDecodeError";
  constructor(
    readonly code: DecodeErrorCode,
    detail: string,
    readonly offset?: number,
  ) {
    super(`Cannot decode DHCP packet: ${detail}`);
  }
}

export class DhcpEncodeError extends Error {
  override readonly name = "DhcpEncodeError";
  constructor(detail: string) {
    super(`Cannot encode DHCP packet: ${detail}`);
  }
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: DhcpDecodeError };

export const decoded = <T>(value: T): Decoded<T> => ({ ok: true, value });
export const failed = <T>(code: DecodeErrorCode, detail: string, offset?: number): Decoded<T> => ({
  ok: false,
  error: new DhcpDecodeError(code, detail, offset),
});
