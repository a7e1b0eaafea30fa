/**
 * The few parts of the protobuf wire format the device-plugin API needs:
 * varints (bool, int32/int64), length-delimited fields (strings, nested
 * messages, map entries), repeated fields as repeated tags. Proto3 rules:
 * a field at its default (false, 0, "") is not written. Pure.
 */

/** A value to write: a string, a bool, a non-negative integer or an encoded message. */
export type ProtoValue = string | boolean | number | Uint8Array;

/** One field as read: its number, and either its varint or its bytes. */
export type ProtoField = { field: number; varint: bigint } | { field: number; bytes: Uint8Array };

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

function pushVarint(out: number[], value: bigint): void {
  let v = value;
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

/** Encodes fields in the given order; undefined and default values are left out. */
export function encodeFields(fields: readonly (readonly [number, ProtoValue | undefined])[]): Uint8Array {
  const out: number[] = [];
  for (const [field, value] of fields) {
    if (value === undefined || value === false || value === 0 || value === "") continue;
    if (!Number.isInteger(field) || field < 1) throw new Error(`Cannot encode protobuf field number "${field}": not a positive integer`);
    if (typeof value === "boolean" || typeof value === "number") {
      if (typeof value === "number" && (!Number.isSafeInteger(value) || value < 0)) {
        throw new Error(`Cannot encode protobuf field ${field} value "${value}": not a non-negative integer`);
      }
      pushVarint(out, BigInt(field) << 3n);
      pushVarint(out, BigInt(value === true ? 1 : value));
      continue;
    }
    const bytes = typeof value === "string" ? textEncoder.encode(value) : value;
    pushVarint(out, (BigInt(field) << 3n) | 2n);
    pushVarint(out, BigInt(bytes.length));
    for (const b of bytes) out.push(b);
  }
  return Uint8Array.from(out);
}

/** Decodes one message's fields in wire order; fixed32/fixed64 are skipped, groups refused. */
export function decodeFields(buf: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= buf.length) throw new Error(`Cannot decode a protobuf varint: the message ends at byte ${at}`);
      const b = buf[at++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error(`Cannot decode a protobuf varint: longer than 10 bytes at byte ${at}`);
  };
  while (at < buf.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field < 1) throw new Error(`Cannot decode a protobuf field: field number 0 at byte ${at}`);
    if (wire === 0) fields.push({ field, varint: varint() });
    else if (wire === 2) {
      const length = Number(varint());
      if (at + length > buf.length) throw new Error(`Cannot decode protobuf field ${field}: ${length} bytes announced, ${buf.length - at} left`);
      fields.push({ field, bytes: buf.subarray(at, at + length) });
      at += length;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > buf.length) throw new Error(`Cannot decode protobuf field ${field}: the message ends inside it`);
    } else throw new Error(`Cannot decode protobuf field ${field}: wire type ${wire} is not supported`);
  }
  return fields;
}

function bytesOf(fields: readonly ProtoField[], field: number): Uint8Array[] {
  const found: Uint8Array[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (!("bytes" in f)) throw new Error(`Cannot read protobuf field ${field}: a varint where bytes were expected`);
    found.push(f.bytes);
  }
  return found;
}

/** Every value of a (repeated) string field. */
export function stringsOf(fields: readonly ProtoField[], field: number): string[] {
  return bytesOf(fields, field).map((b) => textDecoder.decode(b));
}

/** A singular string field ("" when absent; the last one wins, as in protobuf). */
export function stringOf(fields: readonly ProtoField[], field: number): string {
  return stringsOf(fields, field).at(-1) ?? "";
}

/** Every value of a (repeated) message field, still encoded. */
export function messagesOf(fields: readonly ProtoField[], field: number): Uint8Array[] {
  return bytesOf(fields, field);
}

/** A singular varint field (0 when absent). */
export function varintOf(fields: readonly ProtoField[], field: number): bigint {
  let value = 0n;
  for (const f of fields) {
    if (f.field !== field) continue;
    if (!("varint" in f)) throw new Error(`Cannot read protobuf field ${field}: bytes where a varint was expected`);
    value = f.varint;
  }
  return value;
}

/** A map<string,string> field: each entry a message with key = 1, value = 2. */
export function encodeStringMap(field: number, map: Readonly<Record<string, string>>): [number, Uint8Array][] {
  return Object.entries(map).map(([k, v]) => [field, encodeFields([[1, k], [2, v]])]);
}

export function stringMapOf(fields: readonly ProtoField[], field: number): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of messagesOf(fields, field)) {
    const f = decodeFields(entry);
    map[stringOf(f, 1)] = stringOf(f, 2);
  }
  return map;
}
