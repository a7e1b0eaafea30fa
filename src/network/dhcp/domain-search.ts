/**
 * Option 119, Domain Search (RFC 3397): a list of domain names in DNS wire
 * format (RFC 1035 section 3.1) with message compression (section 4.1.4),
 * pointer offsets counted from the first byte of the (concatenated) option
 * data. Names are dotted strings without the trailing dot; the root is ".".
 */
import { type Decoded, DhcpEncodeError, decoded, failed } from "./errors.ts";
import { latin1Decode, latin1Encode } from "./latin1.ts";

const MAX_LABEL = 63;
const MAX_NAME_WIRE = 255;
const MAX_POINTER = 0x3fff;

function labelsOf(name: string): string[] {
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  return trimmed === "" ? [] : trimmed.split(".");
}

/** Why `name` cannot be encoded as a DNS name, or null when it can. */
export function domainNameProblem(name: string): string | null {
  const labels = labelsOf(name);
  let wire = 1;
  for (const label of labels) {
    if (label.length === 0) return `name "${name}" has an empty label`;
    const bytes = latin1Encode(label);
    if (bytes === null) return `name "${name}" has a character outside one byte`;
    if (bytes.length > MAX_LABEL) return `name "${name}" has a label longer than ${MAX_LABEL} bytes`;
    wire += bytes.length + 1;
  }
  if (wire > MAX_NAME_WIRE) return `name "${name}" is longer than ${MAX_NAME_WIRE} bytes on the wire`;
  return null;
}

/** Encodes names, compressing repeated suffixes. Throws DhcpEncodeError. */
export function encodeDomainSearch(names: readonly string[]): Uint8Array {
  const out: number[] = [];
  const suffixOffsets = new Map<string, number>();
  for (const name of names) {
    const problem = domainNameProblem(name);
    if (problem !== null) throw new DhcpEncodeError(`option 119: ${problem}`);
    const labels = labelsOf(name);
    let compressed = false;
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join(".");
      const earlier = suffixOffsets.get(suffix);
      if (earlier !== undefined) {
        out.push(0xc0 | (earlier >> 8), earlier & 0xff);
        compressed = true;
        break;
      }
      if (out.length <= MAX_POINTER) suffixOffsets.set(suffix, out.length);
      const bytes = latin1Encode(labels[i] ?? "") ?? new Uint8Array();
      out.push(bytes.length, ...bytes);
    }
    if (!compressed) out.push(0);
  }
  return Uint8Array.from(out);
}

/**
 * Reads one name starting at `start`. Every compression pointer must point
 * strictly before the previous jump target (or the name's start), so the
 * number of jumps is bounded and malformed data cannot loop.
 */
function readName(data: Uint8Array, start: number): Decoded<{ name: string; next: number }> {
  const labels: string[] = [];
  let pos = start;
  let next = -1;
  let limit = start;
  let wire = 1;
  for (;;) {
    const len = data[pos];
    if (len === undefined) return failed("bad-domain-name", `option 119: name at offset ${start} runs past the end`, pos);
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      const low = data[pos + 1];
      if (low === undefined) return failed("bad-domain-name", "option 119: truncated compression pointer", pos);
      const target = ((len & 0x3f) << 8) | low;
      if (target >= limit) {
        return failed("bad-domain-name", `option 119: compression pointer to ${target} does not point backwards`, pos);
      }
      if (next < 0) next = pos + 2;
      limit = target;
      pos = target;
      continue;
    }
    if (kind !== 0) return failed("bad-domain-name", `option 119: reserved label type 0x${kind.toString(16)}`, pos);
    if (pos + 1 + len > data.length) return failed("bad-domain-name", "option 119: label runs past the end", pos);
    const label = data.subarray(pos + 1, pos + 1 + len);
    if (label.includes(0x2e)) return failed("bad-domain-name", "option 119: label contains a dot", pos);
    wire += len + 1;
    if (wire > MAX_NAME_WIRE) return failed("bad-domain-name", `option 119: name longer than ${MAX_NAME_WIRE} bytes`, pos);
    labels.push(latin1Decode(label));
    pos += 1 + len;
  }
  return decoded({ name: labels.length === 0 ? "." : labels.join("."), next });
}

export function decodeDomainSearch(data: Uint8Array): Decoded<string[]> {
  const names: string[] = [];
  let pos = 0;
  while (pos < data.length) {
    const r = readName(data, pos);
    if (!r.ok) return r;
    names.push(r.value.name);
    pos = r.value.next;
  }
  return decoded(names);
}
