/**
 * Streaming tar reader: ustar, pax extended headers (path, linkpath, size;
 * global headers too), GNU long names/link names ('L'/'K') and GNU base-256
 * sizes. Entries are yielded one at a time; a body that is not read is
 * skipped. Bodies are handed out as views of the source chunks (no copy).
 */

export type TarEntryType = "file" | "directory" | "symlink" | "hardlink" | "other";

export interface TarEntry {
  /** Normalized path: no leading "/" or "./", no trailing "/", no "." components. */
  readonly path: string;
  readonly type: TarEntryType;
  /** Raw typeflag character. */
  readonly typeflag: string;
  readonly size: number;
  readonly linkPath: string;
  readonly mode: number;
  /** GNU sparse entry (old 'S' type or pax GNU.sparse.*): the body is not the file content. */
  readonly sparse: boolean;
  /** The body; iterate before asking for the next entry, or it is skipped. */
  body(): AsyncGenerator<Uint8Array>;
}

export class TarFormatError extends Error {
  constructor(message: string) {
    super(`Cannot read tar stream: ${message}`);
    this.name = "TarFormatError";
  }
}

const BLOCK = 512;
const EMPTY = new Uint8Array(0);
const MAX_META_BYTES = 1024 * 1024;
const decoder = new TextDecoder();

/** Pull-based byte reader over an async iterable of chunks. */
class ChunkReader {
  private chunk: Uint8Array = EMPTY;
  private offset = 0;
  private ended = false;
  /** Bytes consumed so far. */
  position = 0;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  private async fill(): Promise<boolean> {
    while (this.offset >= this.chunk.length) {
      if (this.ended) return false;
      const next = await this.source.next();
      if (next.done === true) {
        this.ended = true;
        return false;
      }
      this.chunk = next.value;
      this.offset = 0;
    }
    return true;
  }

  /** Exactly n bytes (copied when they span chunks), or null at a clean EOF before any byte. */
  async readExact(n: number): Promise<Uint8Array | null> {
    if (!(await this.fill())) return null;
    if (this.chunk.length - this.offset >= n) {
      const view = this.chunk.subarray(this.offset, this.offset + n);
      this.offset += n;
      this.position += n;
      return view;
    }
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (!(await this.fill())) throw new TarFormatError(`unexpected end of stream at offset ${this.position} (wanted ${n - got} more bytes)`);
      const take = Math.min(n - got, this.chunk.length - this.offset);
      out.set(this.chunk.subarray(this.offset, this.offset + take), got);
      this.offset += take;
      this.position += take;
      got += take;
    }
    return out;
  }

  /** Yields views totalling n bytes. */
  async *take(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill())) throw new TarFormatError(`unexpected end of stream at offset ${this.position} inside an entry (${left} bytes missing)`);
      const take = Math.min(left, this.chunk.length - this.offset);
      const view = this.chunk.subarray(this.offset, this.offset + take);
      this.offset += take;
      this.position += take;
      left -= take;
      yield view;
    }
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill())) throw new TarFormatError(`unexpected end of stream at offset ${this.position} (${left} bytes missing)`);
      const take = Math.min(left, this.chunk.length - this.offset);
      this.offset += take;
      this.position += take;
      left -= take;
    }
  }

  async drain(): Promise<void> {
    while (await this.fill()) {
      this.position += this.chunk.length - this.offset;
      this.offset = this.chunk.length;
    }
  }
}

function cString(bytes: Uint8Array, start: number, length: number): string {
  const field = bytes.subarray(start, start + length);
  const nul = field.indexOf(0);
  return decoder.decode(nul >= 0 ? field.subarray(0, nul) : field);
}

/** Octal (NUL/space padded) or GNU base-256 (high bit set) number field. */
export function parseNumericField(bytes: Uint8Array, start: number, length: number, what: string): number {
  const field = bytes.subarray(start, start + length);
  const first = field[0] ?? 0;
  if ((first & 0x80) !== 0) {
    if ((first & 0x40) !== 0) throw new TarFormatError(`negative base-256 ${what}`);
    let value = first & 0x3f;
    for (let i = 1; i < field.length; i++) {
      value = value * 256 + (field[i] as number);
      if (!Number.isSafeInteger(value)) throw new TarFormatError(`${what} too large`);
    }
    return value;
  }
  const text = decoder.decode(field).replace(/[\0 ]+$/g, "").replace(/^[ \0]+/, "");
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`${what} field "${text}" is not octal`);
  return Number.parseInt(text, 8);
}

function checksumOk(header: Uint8Array): boolean {
  const stored = parseNumericField(header, 148, 8, "checksum");
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (header[i] as number);
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** Parses pax records "<len> <key>=<value>\n". */
export function parsePaxRecords(bytes: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  let i = 0;
  while (i < bytes.length) {
    if (bytes[i] === 0) break; // padding
    const space = bytes.indexOf(0x20, i);
    if (space < 0) throw new TarFormatError("pax record without length");
    const lengthText = decoder.decode(bytes.subarray(i, space));
    if (!/^[0-9]+$/.test(lengthText)) throw new TarFormatError(`pax record length "${lengthText}" is not a number`);
    const length = Number(lengthText);
    if (length <= space - i + 1 || i + length > bytes.length) throw new TarFormatError(`pax record length ${length} is out of range`);
    const record = bytes.subarray(space + 1, i + length);
    if (record[record.length - 1] !== 0x0a) throw new TarFormatError("pax record does not end with a newline");
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw new TarFormatError("pax record without \"=\"");
    const key = decoder.decode(record.subarray(0, eq));
    const value = decoder.decode(record.subarray(eq + 1, record.length - 1));
    if (value === "") records.delete(key);
    else records.set(key, value);
    i += length;
  }
  return records;
}

/** Normalizes an archive path; throws on ".." (paths may not leave the root). */
export function normalizeTarPath(name: string): string {
  const parts: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") throw new TarFormatError(`entry "${name}" has a ".." component`);
    parts.push(part);
  }
  return parts.join("/");
}

function entryType(typeflag: string): TarEntryType {
  switch (typeflag) {
    case "0":
    case "\0":
    case "7":
    case "S":
      return "file";
    case "1":
      return "hardlink";
    case "2":
      return "symlink";
    case "5":
      return "directory";
    default:
      return "other";
  }
}

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/**
 * Reads tar entries from `source`. After the end-of-archive block the rest
 * of the source is consumed too (so a verifying source reaches its end).
 */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const reader = new ChunkReader(source[Symbol.asyncIterator]());
  const global = new Map<string, string>();
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;

  for (;;) {
    const headerOffset = reader.position;
    const block = await reader.readExact(BLOCK);
    if (block === null) return; // EOF without end marker: accepted, as Go's archive/tar does
    if (isZeroBlock(block)) {
      await reader.drain();
      return;
    }
    const header = block.slice(); // keep it: the view may be reused by the next read
    if (!checksumOk(header)) throw new TarFormatError(`header checksum mismatch at offset ${headerOffset}`);
    const typeflag = String.fromCharCode(header[156] as number);
    const headerSize = parseNumericField(header, 124, 12, "size");

    if (typeflag === "x" || typeflag === "g" || typeflag === "L" || typeflag === "K") {
      if (headerSize > MAX_META_BYTES) throw new TarFormatError(`metadata entry of ${headerSize} bytes at offset ${headerOffset}`);
      const data = headerSize === 0 ? EMPTY : await reader.readExact(headerSize);
      if (data === null) throw new TarFormatError(`unexpected end of stream in metadata at offset ${headerOffset}`);
      const copy = data.slice();
      await reader.skip(padding(headerSize));
      if (typeflag === "x") {
        for (const [k, v] of parsePaxRecords(copy)) pax.set(k, v);
      } else if (typeflag === "g") {
        for (const [k, v] of parsePaxRecords(copy)) global.set(k, v);
      } else {
        const nul = copy.indexOf(0);
        const text = decoder.decode(nul >= 0 ? copy.subarray(0, nul) : copy);
        if (typeflag === "L") longName = text;
        else longLink = text;
      }
      continue;
    }

    const magic = decoder.decode(header.subarray(257, 263));
    const isUstar = magic === "ustar\0";
    let name = cString(header, 0, 100);
    if (isUstar) {
      const prefix = cString(header, 345, 155);
      if (prefix !== "") name = `${prefix}/${name}`;
    }
    const records = new Map([...global, ...pax]);
    name = records.get("path") ?? longName ?? name;
    const linkPath = records.get("linkpath") ?? longLink ?? cString(header, 157, 100);
    const paxSize = records.get("size");
    let size = headerSize;
    if (paxSize !== undefined) {
      if (!/^[0-9]+$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) throw new TarFormatError(`pax size "${paxSize}" is invalid`);
      size = Number(paxSize);
    }
    const sparse = typeflag === "S" || [...records.keys()].some((k) => k.startsWith("GNU.sparse."));
    pax = new Map();
    longName = undefined;
    longLink = undefined;

    const type = entryType(typeflag);
    // Links, directories, devices and fifos carry no data whatever their size
    // field says (as Go's archive/tar reads them).
    const bodySize = "123456".includes(typeflag) ? 0 : size;
    let left = bodySize;
    let consumed = false;
    const body = async function* (): AsyncGenerator<Uint8Array> {
      if (consumed) throw new TarFormatError(`the body of "${name}" was read already`);
      consumed = true;
      for await (const view of reader.take(left)) {
        left -= view.length;
        yield view;
      }
    };
    yield {
      path: normalizeTarPath(name),
      type,
      typeflag,
      size,
      linkPath,
      mode: parseNumericField(header, 100, 8, "mode"),
      sparse,
      body,
    };
    await reader.skip(left + padding(bodySize));
  }
}
