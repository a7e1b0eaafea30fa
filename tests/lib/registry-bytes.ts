/**
 * Test helpers (used by the unit tests beside this file and by the host
 * tier): a small tar writer producing ustar, pax and GNU long-name entries,
 * and an in-memory registry behind a `fetch` function.
 */
import { MediaType } from "../../src/storage/registry/manifest.ts";

export interface TarSpec {
  readonly name: string;
  /** "0" file (default), "1" hard link, "2" symlink, "5" directory. */
  readonly type?: "0" | "1" | "2" | "5" | "6";
  readonly content?: Uint8Array | string;
  readonly linkName?: string;
  /** How to store a name longer than 100 bytes (default "pax"). */
  readonly longName?: "pax" | "gnu" | "prefix";
  /** Extra pax records for this entry. */
  readonly pax?: Readonly<Record<string, string>>;
  /** Write the size in GNU base-256 form. */
  readonly base256Size?: boolean;
}

const encoder = new TextEncoder();

function bytesOf(content: Uint8Array | string | undefined): Uint8Array {
  if (content === undefined) return new Uint8Array(0);
  return typeof content === "string" ? encoder.encode(content) : content;
}

function writeString(block: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = encoder.encode(text);
  if (bytes.length > length) throw new Error(`field too long: ${text}`);
  block.set(bytes, offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeString(block, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

function header(name: string, typeflag: string, size: number, opts: { linkName?: string; prefix?: string; gnu?: boolean; base256?: boolean }): Uint8Array {
  const block = new Uint8Array(512);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, typeflag === "5" ? 0o755 : 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  if (opts.base256 === true) {
    block[124] = 0x80;
    let v = size;
    for (let i = 135; i > 124; i--) {
      block[i] = v % 256;
      v = Math.floor(v / 256);
    }
  } else {
    writeOctal(block, 124, 12, size);
  }
  writeOctal(block, 136, 12, 1_700_000_000);
  block[156] = typeflag.charCodeAt(0);
  if (opts.linkName !== undefined) writeString(block, 157, 100, opts.linkName);
  if (opts.gnu === true) writeString(block, 257, 8, "ustar  \0");
  else writeString(block, 257, 8, "ustar\x0000");
  if (opts.prefix !== undefined) writeString(block, 345, 155, opts.prefix);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  writeString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

function padded(data: Uint8Array): Uint8Array[] {
  const pad = (512 - (data.length % 512)) % 512;
  return pad === 0 ? [data] : [data, new Uint8Array(pad)];
}

export function paxRecords(records: Readonly<Record<string, string>>): Uint8Array {
  let out = "";
  for (const [key, value] of Object.entries(records)) {
    const body = ` ${key}=${value}\n`;
    let length = encoder.encode(body).length + 1;
    while (String(length).length + encoder.encode(body).length !== length) length++;
    out += `${length}${body}`;
  }
  return encoder.encode(out);
}

/** Builds a tar archive (with the two zero end blocks). */
export function buildTar(specs: readonly TarSpec[], options: { endBlocks?: number } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const spec of specs) {
    const typeflag = spec.type ?? "0";
    const data = typeflag === "0" ? bytesOf(spec.content) : new Uint8Array(0);
    let name = spec.name;
    let prefix: string | undefined;
    const pax: Record<string, string> = { ...spec.pax };
    const nameBytes = encoder.encode(name).length;
    if (nameBytes > 100) {
      const mode = spec.longName ?? "pax";
      if (mode === "pax") {
        pax.path = name;
        name = name.slice(0, 99);
      } else if (mode === "gnu") {
        const long = encoder.encode(`${name}\0`);
        parts.push(header("././@LongLink", "L", long.length, { gnu: true }), ...padded(long));
        name = name.slice(0, 99);
      } else {
        const cut = name.lastIndexOf("/", 155);
        prefix = name.slice(0, cut);
        name = name.slice(cut + 1);
      }
    }
    if (Object.keys(pax).length > 0) {
      const records = paxRecords(pax);
      parts.push(header("PaxHeaders/x", "x", records.length, {}), ...padded(records));
    }
    parts.push(
      header(name, typeflag, data.length, {
        ...(spec.linkName !== undefined ? { linkName: spec.linkName } : {}),
        ...(prefix !== undefined ? { prefix } : {}),
        gnu: spec.longName === "gnu",
        base256: spec.base256Size === true,
      }),
    );
    if (data.length > 0) parts.push(...padded(data));
  }
  for (let i = 0; i < (options.endBlocks ?? 2); i++) parts.push(new Uint8Array(512));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Splits bytes into chunks of `size` (to exercise boundaries). */
export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, Math.min(bytes.length, i + size));
}

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
}

export interface MemoryImageLayer {
  readonly tar: Uint8Array;
  readonly compression?: "none" | "gzip" | "zstd";
}

export interface MemoryImage {
  readonly manifestDigest: string;
  readonly manifest: Uint8Array;
  readonly blobs: Map<string, Uint8Array>;
  readonly layerDigests: string[];
  readonly configDigest: string;
}

/** Builds an OCI image in memory from layer tars. */
export function memoryImage(layers: readonly MemoryImageLayer[], platform = { os: "linux", architecture: "amd64" }): MemoryImage {
  const blobs = new Map<string, Uint8Array>();
  const layerDescs = layers.map((layer) => {
    const compression = layer.compression ?? "gzip";
    const bytes = compression === "gzip" ? Bun.gzipSync(layer.tar as Uint8Array<ArrayBuffer>) : compression === "zstd" ? Bun.zstdCompressSync(layer.tar) : layer.tar;
    const digest = sha256(bytes);
    blobs.set(digest, new Uint8Array(bytes));
    const mediaType = compression === "none" ? "application/vnd.oci.image.layer.v1.tar" : `application/vnd.oci.image.layer.v1.tar+${compression}`;
    return { mediaType, digest, size: bytes.length };
  });
  const config = encoder.encode(JSON.stringify({ ...platform, rootfs: { type: "layers", diff_ids: layers.map((l) => sha256(l.tar)) } }));
  const configDigest = sha256(config);
  blobs.set(configDigest, config);
  const manifest = encoder.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configDigest, size: config.length },
      layers: layerDescs,
    }),
  );
  return { manifestDigest: sha256(manifest), manifest, blobs, layerDigests: layerDescs.map((d) => d.digest), configDigest };
}

export interface FakeRegistry {
  readonly fetch: (url: string, init: BunFetchRequestInit) => Promise<Response>;
  /** Paths requested, in order (with method). */
  readonly requests: string[];
  /** Counters of blob GETs by digest. */
  readonly blobGets: Map<string, number>;
  /** Adds a manifest under a tag (and its digest); returns its digest. */
  putManifest(repository: string, tag: string, bytes: Uint8Array, mediaType: string): string;
  putBlob(repository: string, bytes: Uint8Array): string;
  putImage(repository: string, tag: string, image: MemoryImage): void;
  /** Replace the bytes served for a blob (tampering). */
  tamper(digest: string, bytes: Uint8Array): void;
  /** "basic": require user:pass; "bearer": require a token from /token (optionally with user:pass). */
  auth: { kind: "none" } | { kind: "basic" | "bearer"; username: string; password: string; anonymousToken?: boolean };
}

/** An in-memory registry speaking enough of the distribution API for unit tests. */
export function fakeRegistry(host: string): FakeRegistry {
  const manifests = new Map<string, { bytes: Uint8Array; mediaType: string }>();
  const blobs = new Map<string, Uint8Array>();
  const served = new Map<string, Uint8Array>();
  const requests: string[] = [];
  const blobGets = new Map<string, number>();
  const tokens = new Set<string>();
  const reg: FakeRegistry = {
    requests,
    blobGets,
    auth: { kind: "none" },
    putManifest(repository, tag, bytes, mediaType) {
      const digest = sha256(bytes);
      manifests.set(`${repository}:${tag}`, { bytes, mediaType });
      manifests.set(`${repository}:${digest}`, { bytes, mediaType });
      return digest;
    },
    putBlob(repository, bytes) {
      const digest = sha256(bytes);
      blobs.set(`${repository}@${digest}`, bytes);
      return digest;
    },
    putImage(repository, tag, image) {
      for (const [, bytes] of image.blobs) reg.putBlob(repository, bytes);
      reg.putManifest(repository, tag, image.manifest, MediaType.ociManifest);
    },
    tamper(digest, bytes) {
      served.set(digest, bytes);
    },
    fetch: async (url, init) => {
      const u = new URL(url);
      const headers = new Headers(init.headers as Record<string, string> | undefined);
      requests.push(`${init.method ?? "GET"} ${u.pathname}`);
      if (init.signal?.aborted === true) throw init.signal.reason;
      if (u.host !== host) throw new TypeError(`fetch failed: unknown host ${u.host}`);
      if (u.protocol !== "http:") throw new TypeError("fetch failed: the server does not speak TLS");
      const auth = reg.auth;
      const basic = auth.kind === "none" ? "" : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
      if (u.pathname === "/token") {
        if (auth.kind !== "bearer") return new Response("no", { status: 404 });
        const given = headers.get("authorization");
        if (given === null ? auth.anonymousToken !== true : given !== basic) return new Response('{"details":"bad credentials"}', { status: 401 });
        const token = crypto.randomUUID();
        tokens.add(token);
        return Response.json({ token, expires_in: 300 });
      }
      if (auth.kind === "basic" && headers.get("authorization") !== basic) {
        return new Response('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="fake"' },
        });
      }
      if (auth.kind === "bearer") {
        const given = headers.get("authorization") ?? "";
        if (!given.startsWith("Bearer ") || !tokens.has(given.slice(7))) {
          return new Response('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', {
            status: 401,
            headers: { "www-authenticate": `Bearer realm="http://${host}/token",service="fake",scope="repository:x:pull"` },
          });
        }
      }
      const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(u.pathname);
      if (m === null) return new Response("not found", { status: 404 });
      const [, repository, kind, reference] = m as unknown as [string, string, string, string];
      if (kind === "manifests") {
        const found = manifests.get(`${repository}:${reference}`);
        if (found === undefined) return Response.json({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }, { status: 404 });
        return new Response(found.bytes, { headers: { "content-type": found.mediaType, "docker-content-digest": sha256(found.bytes) } });
      }
      const blob = blobs.get(`${repository}@${reference}`);
      if (blob === undefined) return Response.json({ errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown" }] }, { status: 404 });
      blobGets.set(reference, (blobGets.get(reference) ?? 0) + 1);
      const body = served.get(reference) ?? blob;
      // Stream in small pieces so verification and progress see several chunks.
      const pieces = chunked(body, 64 * 1024);
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await pieces.next();
          if (next.done === true) controller.close();
          else controller.enqueue(next.value.slice());
        },
      });
      return new Response(stream, { headers: { "content-type": "application/octet-stream" } });
    },
  };
  return reg;
}
