/**
 * A small, strict ISO 9660 + Joliet + Rock Ridge reader, written
 * independently of the writer and used only by the tests to check images.
 * It reads only what a flat cidata image contains (one directory per tree)
 * and throws `Cannot read ISO: ...` on anything inconsistent: both-endian
 * halves that differ, records crossing sectors, path tables that disagree
 * with the root record, extents outside the volume, malformed SUSP entries.
 */

const SECTOR = 2048;

export interface RockRidgeInfo {
  /** Signatures in the order found (inline, then continuation areas). */
  readonly signatures: readonly string[];
  readonly name: string | null;
  readonly mode: number | null;
  readonly links: number | null;
  readonly uid: number | null;
  readonly gid: number | null;
  readonly serial: number | null;
  readonly modifiedAt: Date | null;
  /** Extension identifiers of ER entries. */
  readonly extensions: readonly string[];
  /** Whether an SP entry was found. */
  readonly sp: boolean;
}

export interface IsoEntry {
  /** Decoded identifier: ASCII for the primary tree, UCS-2 for Joliet. */
  readonly identifier: string;
  readonly isDirectory: boolean;
  readonly extent: number;
  readonly size: number;
  readonly recordedAt: Date;
  /** The file's bytes (a view into the image); empty for directories. */
  readonly data: Uint8Array;
  /** Rock Ridge information of the primary tree; null when no SUSP entries. */
  readonly rockRidge: RockRidgeInfo | null;
}

export interface IsoTree {
  readonly volumeId: string;
  readonly root: IsoEntry;
  /** The "." record, where SP/ER live. */
  readonly self: IsoEntry;
  readonly parent: IsoEntry;
  /** Entries after "." and "..", in directory order. */
  readonly entries: readonly IsoEntry[];
}

export interface IsoImage {
  readonly volumeSpaceSize: number;
  /** 17-byte creation date digits of the primary descriptor ("YYYYMMDDHHMMSScc"). */
  readonly createdAt: string;
  readonly primary: IsoTree;
  readonly joliet: IsoTree | null;
  /** Descriptor types in order, terminator included. */
  readonly descriptorTypes: readonly number[];
}

function fail(message: string): never {
  throw new Error(`Cannot read ISO: ${message}`);
}

class Reader {
  constructor(readonly image: Uint8Array) {}

  u8(at: number): number {
    const v = this.image[at];
    if (v === undefined) fail(`offset ${at} is beyond the image (${this.image.length} bytes)`);
    return v;
  }
  u16le(at: number): number {
    return this.u8(at) | (this.u8(at + 1) << 8);
  }
  u16be(at: number): number {
    return (this.u8(at) << 8) | this.u8(at + 1);
  }
  u32le(at: number): number {
    return (this.u8(at) | (this.u8(at + 1) << 8) | (this.u8(at + 2) << 16) | (this.u8(at + 3) << 24)) >>> 0;
  }
  u32be(at: number): number {
    return ((this.u8(at) << 24) | (this.u8(at + 1) << 16) | (this.u8(at + 2) << 8) | this.u8(at + 3)) >>> 0;
  }
  both16(at: number, what: string): number {
    const le = this.u16le(at);
    const be = this.u16be(at + 2);
    if (le !== be) fail(`${what}: little-endian ${le} and big-endian ${be} differ`);
    return le;
  }
  both32(at: number, what: string): number {
    const le = this.u32le(at);
    const be = this.u32be(at + 4);
    if (le !== be) fail(`${what}: little-endian ${le} and big-endian ${be} differ`);
    return le;
  }
  ascii(at: number, length: number): string {
    let s = "";
    for (let i = 0; i < length; i++) s += String.fromCharCode(this.u8(at + i));
    return s;
  }
  ucs2(at: number, length: number): string {
    let s = "";
    for (let i = 0; i + 1 < length; i += 2) s += String.fromCharCode(this.u16be(at + i));
    return s;
  }
  slice(at: number, length: number): Uint8Array {
    if (at + length > this.image.length) fail(`range ${at}+${length} is beyond the image`);
    return this.image.subarray(at, at + length);
  }
}

function decodeRecordingDate(r: Reader, at: number): Date {
  const offsetQuarterHours = (r.u8(at + 6) << 24) >> 24;
  const utc = Date.UTC(1900 + r.u8(at), r.u8(at + 1) - 1, r.u8(at + 2), r.u8(at + 3), r.u8(at + 4), r.u8(at + 5));
  return new Date(utc - offsetQuarterHours * 15 * 60 * 1000);
}

interface RawRecord {
  readonly length: number;
  readonly extent: number;
  readonly size: number;
  readonly flags: number;
  readonly identifier: Uint8Array;
  readonly recordedAt: Date;
  readonly systemUse: Uint8Array;
}

function parseRecord(r: Reader, at: number, what: string): RawRecord {
  const length = r.u8(at);
  if (length < 34) fail(`${what}: record length ${length} is below 34`);
  if (length % 2 !== 0) fail(`${what}: record length ${length} is odd`);
  if (r.u8(at + 1) !== 0) fail(`${what}: extended attribute records are not expected`);
  const extent = r.both32(at + 2, `${what} extent`);
  const size = r.both32(at + 10, `${what} data length`);
  const recordedAt = decodeRecordingDate(r, at + 18);
  const flags = r.u8(at + 25);
  if (r.both16(at + 28, `${what} volume sequence number`) !== 1) fail(`${what}: volume sequence number is not 1`);
  const idLength = r.u8(at + 32);
  if (idLength === 0) fail(`${what}: empty identifier`);
  const fixed = 33 + idLength + (idLength % 2 === 0 ? 1 : 0);
  if (fixed > length) fail(`${what}: identifier overruns the record`);
  return {
    length,
    extent,
    size,
    flags,
    identifier: r.slice(at + 33, idLength),
    recordedAt,
    systemUse: r.slice(at + fixed, length - fixed),
  };
}

interface SuspState {
  signatures: string[];
  name: string | null;
  mode: number | null;
  links: number | null;
  uid: number | null;
  gid: number | null;
  serial: number | null;
  modifiedAt: Date | null;
  extensions: string[];
  sp: boolean;
}

function parseSystemUse(r: Reader, area: Uint8Array, volumeBytes: number, what: string): RockRidgeInfo | null {
  const state: SuspState = {
    signatures: [],
    name: null,
    mode: null,
    links: null,
    uid: null,
    gid: null,
    serial: null,
    modifiedAt: null,
    extensions: [],
    sp: false,
  };
  const local = new Reader(area);
  const visit = (rd: Reader, start: number, end: number, depth: number): void => {
    if (depth > 8) fail(`${what}: continuation chain too deep`);
    let at = start;
    let next: { extent: number; offset: number; length: number } | null = null;
    while (end - at >= 4) {
      const sig = rd.ascii(at, 2);
      const len = rd.u8(at + 2);
      if (sig === "\0\0" && len === 0) break; // padding
      if (len < 4 || at + len > end) fail(`${what}: SUSP entry "${sig}" of length ${len} overruns its area`);
      if (rd.u8(at + 3) !== 1) fail(`${what}: SUSP entry "${sig}" has version ${rd.u8(at + 3)}`);
      state.signatures.push(sig);
      switch (sig) {
        case "SP":
          if (len !== 7 || rd.u8(at + 4) !== 0xbe || rd.u8(at + 5) !== 0xef) fail(`${what}: malformed SP entry`);
          state.sp = true;
          break;
        case "CE":
          if (len !== 28) fail(`${what}: CE entry has length ${len}`);
          next = {
            extent: rd.both32(at + 4, `${what} CE extent`),
            offset: rd.both32(at + 12, `${what} CE offset`),
            length: rd.both32(at + 20, `${what} CE length`),
          };
          break;
        case "ER": {
          const idLen = rd.u8(at + 4);
          const total = 8 + idLen + rd.u8(at + 5) + rd.u8(at + 6);
          if (total !== len) fail(`${what}: ER lengths add up to ${total}, entry is ${len}`);
          state.extensions.push(rd.ascii(at + 8, idLen));
          break;
        }
        case "PX":
          if (len !== 36 && len !== 44) fail(`${what}: PX entry has length ${len}`);
          state.mode = rd.both32(at + 4, `${what} PX mode`);
          state.links = rd.both32(at + 12, `${what} PX links`);
          state.uid = rd.both32(at + 20, `${what} PX uid`);
          state.gid = rd.both32(at + 28, `${what} PX gid`);
          if (len === 44) state.serial = rd.both32(at + 36, `${what} PX serial`);
          break;
        case "NM": {
          const flags = rd.u8(at + 4);
          if ((flags & ~0x01) !== 0) fail(`${what}: unexpected NM flags ${flags}`);
          const part = new TextDecoder("utf-8", { fatal: true }).decode(rd.slice(at + 5, len - 5));
          state.name = (state.name ?? "") + part;
          break;
        }
        case "TF": {
          const flags = rd.u8(at + 4);
          if ((flags & 0x80) !== 0) fail(`${what}: long-form TF not expected`);
          let count = 0;
          for (let bit = 0; bit < 7; bit++) if ((flags & (1 << bit)) !== 0) count++;
          if (len !== 5 + 7 * count) fail(`${what}: TF length ${len} does not match flags ${flags}`);
          // Modification time is the first stamp after an optional creation stamp.
          if ((flags & 0x02) !== 0) {
            const index = (flags & 0x01) !== 0 ? 1 : 0;
            state.modifiedAt = decodeRecordingDate(rd, at + 5 + 7 * index);
          }
          break;
        }
        case "RR":
          if (len !== 5) fail(`${what}: RR entry has length ${len}`);
          break;
        case "ST":
          return;
        default:
          break;
      }
      at += len;
    }
    const ce: { extent: number; offset: number; length: number } | null = next;
    if (ce !== null) {
      if (ce.offset + ce.length > SECTOR) fail(`${what}: continuation area crosses a sector boundary`);
      const base = ce.extent * SECTOR + ce.offset;
      if (base + ce.length > volumeBytes) fail(`${what}: continuation area is outside the volume`);
      visit(r, base, base + ce.length, depth + 1);
    }
  };
  visit(local, 0, area.length, 0);
  if (state.signatures.length === 0) return null;
  return state;
}

interface Descriptor {
  readonly type: number;
  readonly at: number;
}

function readTree(r: Reader, vd: number, joliet: boolean, volumeBytes: number, volumeSpaceSize: number): IsoTree {
  const label = joliet ? "Joliet" : "primary";
  const volumeId = (joliet ? r.ucs2(vd + 40, 32) : r.ascii(vd + 40, 32)).replace(/ +$/, "");
  if (r.both16(vd + 128, `${label} logical block size`) !== SECTOR) fail(`${label}: logical block size is not 2048`);
  const pathTableSize = r.both32(vd + 132, `${label} path table size`);
  const lTable = r.u32le(vd + 140);
  const mTable = r.u32be(vd + 148);
  const rootRaw = parseRecord(r, vd + 156, `${label} root record`);
  if (rootRaw.length !== 34) fail(`${label}: root record in descriptor is ${rootRaw.length} bytes`);
  if ((rootRaw.flags & 0x02) === 0) fail(`${label}: root record is not a directory`);

  // Path tables: the L and M copies must agree and start with the root.
  const readTable = (sector: number, littleEndian: boolean): { extent: number; parent: number; name: Uint8Array }[] => {
    const out: { extent: number; parent: number; name: Uint8Array }[] = [];
    let at = sector * SECTOR;
    const end = at + pathTableSize;
    if (end > volumeBytes) fail(`${label}: path table is outside the volume`);
    while (at < end) {
      const idLen = r.u8(at);
      if (idLen === 0) fail(`${label}: path table entry with empty identifier`);
      const extent = littleEndian ? r.u32le(at + 2) : r.u32be(at + 2);
      const parent = littleEndian ? r.u16le(at + 6) : r.u16be(at + 6);
      out.push({ extent, parent, name: r.slice(at + 8, idLen) });
      at += 8 + idLen + (idLen % 2);
    }
    if (at !== end) fail(`${label}: path table entries overrun its size`);
    return out;
  };
  const l = readTable(lTable, true);
  const m = readTable(mTable, false);
  if (JSON.stringify(l) !== JSON.stringify(m)) fail(`${label}: L and M path tables differ`);
  const first = l[0];
  if (first === undefined || first.extent !== rootRaw.extent || first.parent !== 1 || first.name[0] !== 0) {
    fail(`${label}: path table does not start with the root directory`);
  }

  const toEntry = (raw: RawRecord, identifier: string, rockRidge: RockRidgeInfo | null): IsoEntry => {
    const isDirectory = (raw.flags & 0x02) !== 0;
    if (raw.size > 0 && raw.extent + Math.ceil(raw.size / SECTOR) > volumeSpaceSize) {
      fail(`${label}: "${identifier}" extent ${raw.extent}+${raw.size} bytes is outside the volume`);
    }
    return {
      identifier,
      isDirectory,
      extent: raw.extent,
      size: raw.size,
      recordedAt: raw.recordedAt,
      data: isDirectory ? new Uint8Array(0) : r.slice(raw.extent * SECTOR, raw.size),
      rockRidge,
    };
  };
  const root = toEntry(rootRaw, "", null);
  if (rootRaw.size % SECTOR !== 0) fail(`${label}: root directory size ${rootRaw.size} is not whole sectors`);

  const records: { raw: RawRecord; identifier: string; rr: RockRidgeInfo | null }[] = [];
  const start = rootRaw.extent * SECTOR;
  const end = start + rootRaw.size;
  let at = start;
  while (at < end) {
    const length = r.u8(at);
    if (length === 0) {
      at = (Math.floor((at - start) / SECTOR) + 1) * SECTOR + start; // rest of sector unused
      continue;
    }
    const sectorEnd = (Math.floor((at - start) / SECTOR) + 1) * SECTOR + start;
    if (at + length > sectorEnd) fail(`${label}: directory record at byte ${at} crosses a sector boundary`);
    const raw = parseRecord(r, at, `${label} record at byte ${at}`);
    let identifier: string;
    if (raw.identifier.length === 1 && (raw.identifier[0] === 0 || raw.identifier[0] === 1)) {
      identifier = raw.identifier[0] === 0 ? "." : "..";
    } else if (joliet) {
      if (raw.identifier.length % 2 !== 0) fail(`${label}: odd-length Joliet identifier`);
      identifier = new Reader(raw.identifier).ucs2(0, raw.identifier.length);
    } else {
      identifier = new Reader(raw.identifier).ascii(0, raw.identifier.length);
    }
    const rr = joliet ? null : parseSystemUse(r, raw.systemUse, volumeBytes, `${label} "${identifier}"`);
    records.push({ raw, identifier, rr });
    at += length;
  }

  const [self, parent, ...rest] = records;
  if (self?.identifier !== "." || parent?.identifier !== "..") fail(`${label}: directory does not start with "." and ".."`);
  if (self.raw.extent !== rootRaw.extent || parent.raw.extent !== rootRaw.extent) {
    fail(`${label}: "." or ".." of the root does not point at the root`);
  }
  // Sort order: primary ECMA-119 9.3 (name, then extension, space padded); Joliet by UCS-2 code units.
  const key = (id: string): [string, string] => {
    if (joliet) return [id, ""];
    const [name = "", ext = ""] = id.replace(/;\d+$/, "").split(".");
    return [name, ext];
  };
  for (let i = 1; i < rest.length; i++) {
    const a = key(rest[i - 1]?.identifier ?? "");
    const b = key(rest[i]?.identifier ?? "");
    const w0 = Math.max(a[0].length, b[0].length);
    const w1 = Math.max(a[1].length, b[1].length);
    const ka = a[0].padEnd(w0, " ") + "\u0000" + a[1].padEnd(w1, " ");
    const kb = b[0].padEnd(w0, " ") + "\u0000" + b[1].padEnd(w1, " ");
    if (!(ka < kb)) fail(`${label}: records "${rest[i - 1]?.identifier}" and "${rest[i]?.identifier}" are out of order`);
  }
  return {
    volumeId,
    root,
    self: toEntry(self.raw, ".", self.rr),
    parent: toEntry(parent.raw, "..", parent.rr),
    entries: rest.map((x) => toEntry(x.raw, x.identifier, x.rr)),
  };
}

/** Parses an image produced by buildIso (or any flat Joliet/Rock Ridge image). */
export function readIso(image: Uint8Array): IsoImage {
  const r = new Reader(image);
  if (image.length % SECTOR !== 0) fail(`image length ${image.length} is not a multiple of 2048`);
  const descriptors: Descriptor[] = [];
  for (let sector = 16; ; sector++) {
    const at = sector * SECTOR;
    if (at + SECTOR > image.length) fail("no volume descriptor set terminator");
    if (r.ascii(at + 1, 5) !== "CD001") fail(`sector ${sector} is not a volume descriptor`);
    if (r.u8(at + 6) !== 1) fail(`sector ${sector}: descriptor version ${r.u8(at + 6)}`);
    const type = r.u8(at);
    descriptors.push({ type, at });
    if (type === 255) break;
  }
  const pvd = descriptors.find((d) => d.type === 1);
  if (pvd === undefined) fail("no primary volume descriptor");
  const volumeSpaceSize = r.both32(pvd.at + 80, "volume space size");
  if (volumeSpaceSize * SECTOR !== image.length) {
    fail(`volume space size ${volumeSpaceSize} sectors does not match the image (${image.length / SECTOR} sectors)`);
  }
  const volumeBytes = image.length;
  const primary = readTree(r, pvd.at, false, volumeBytes, volumeSpaceSize);
  const svd = descriptors.find((d) => {
    if (d.type !== 2) return false;
    const esc = r.ascii(d.at + 88, 3);
    return esc === "%/@" || esc === "%/C" || esc === "%/E";
  });
  let joliet: IsoTree | null = null;
  if (svd !== undefined) {
    if (r.both32(svd.at + 80, "Joliet volume space size") !== volumeSpaceSize) fail("descriptors disagree on the volume size");
    joliet = readTree(r, svd.at, true, volumeBytes, volumeSpaceSize);
  }
  return {
    volumeSpaceSize,
    createdAt: r.ascii(pvd.at + 813, 16),
    primary,
    joliet,
    descriptorTypes: descriptors.map((d) => d.type),
  };
}
