import { describe, expect, test } from "bun:test";
import { normalizeTarPath, parsePaxRecords, readTar, TarFormatError, type TarEntry } from "./tar-reader.ts";
import { buildTar, chunked, paxRecords } from "../../../tests/lib/registry-bytes.ts";

interface Read {
  path: string;
  type: TarEntry["type"];
  size: number;
  linkPath: string;
  sparse: boolean;
  body?: string;
}

async function readAll(tar: Uint8Array, chunkSize: number, readBodies = true): Promise<Read[]> {
  const out: Read[] = [];
  for await (const entry of readTar(chunked(tar, chunkSize))) {
    const item: Read = { path: entry.path, type: entry.type, size: entry.size, linkPath: entry.linkPath, sparse: entry.sparse };
    if (readBodies && entry.type === "file") {
      const parts: Uint8Array[] = [];
      for await (const view of entry.body()) parts.push(view.slice());
      item.body = Buffer.concat(parts).toString("latin1");
    }
    out.push(item);
  }
  return out;
}

const longDir = `${"d".repeat(60)}/${"e".repeat(60)}`;
const longName = `${longDir}/${"f".repeat(80)}.qcow2`;
const big = "x".repeat(70_000) + "END";

const sample = buildTar([
  { name: "./", type: "5" },
  { name: "./disk/", type: "5" },
  { name: "./disk/disk.qcow2", content: "disk-bytes" },
  { name: longName, content: "pax long" },
  { name: `gnu/${longName}`, content: "gnu long", longName: "gnu" },
  { name: `pre/${longName}`, content: "ustar prefix", longName: "prefix" },
  { name: "disk/.wh.old.img" },
  { name: "disk/sub/.wh..wh..opq" },
  { name: "disk/link", type: "2", linkName: "/disk/disk.qcow2" },
  { name: "disk/hard", type: "1", linkName: "disk/disk.qcow2" },
  { name: "big.bin", content: big, base256Size: true },
  { name: "empty" },
  { name: "fifo", type: "6" },
]);

describe("readTar", () => {
  for (const size of [1, 7, 512, 513, 4096, 1 << 20]) {
    test(`reads every kind of header with ${size}-byte chunks`, async () => {
      const entries = await readAll(sample, size);
      expect(entries.map((e) => e.path)).toEqual([
        "",
        "disk",
        "disk/disk.qcow2",
        longName,
        `gnu/${longName}`,
        `pre/${longName}`,
        "disk/.wh.old.img",
        "disk/sub/.wh..wh..opq",
        "disk/link",
        "disk/hard",
        "big.bin",
        "empty",
        "fifo",
      ]);
      expect(entries[2]).toMatchObject({ type: "file", size: 10, body: "disk-bytes" });
      expect(entries[3]?.body).toBe("pax long");
      expect(entries[4]?.body).toBe("gnu long");
      expect(entries[5]?.body).toBe("ustar prefix");
      expect(entries[8]).toMatchObject({ type: "symlink", linkPath: "/disk/disk.qcow2" });
      expect(entries[9]).toMatchObject({ type: "hardlink", linkPath: "disk/disk.qcow2" });
      expect(entries[10]?.body).toBe(big);
      expect(entries[11]).toMatchObject({ type: "file", size: 0, body: "" });
      expect(entries[12]?.type).toBe("other");
    });
  }

  test("skips bodies that are not read", async () => {
    const entries = await readAll(sample, 100, false);
    expect(entries).toHaveLength(13);
  });

  test("pax size and path override the header; GNU sparse is flagged", async () => {
    const tar = buildTar([
      { name: "a", content: "abc", pax: { path: "disk/renamed.img" } },
      { name: "s", content: "map", pax: { "GNU.sparse.major": "1", "GNU.sparse.minor": "0" } },
      { name: "after", content: "z" },
    ]);
    const entries = await readAll(tar, 33);
    expect(entries.map((e) => [e.path, e.body, e.sparse])).toEqual([
      ["disk/renamed.img", "abc", false],
      ["s", "map", true],
      ["after", "z", false],
    ]);
  });

  test("accepts EOF without end blocks and consumes trailing data after them", async () => {
    const noEnd = buildTar([{ name: "x", content: "1" }], { endBlocks: 0 });
    expect((await readAll(noEnd, 512)).map((e) => e.path)).toEqual(["x"]);
    const trailing = new Uint8Array([...buildTar([{ name: "x", content: "1" }]), ...new Uint8Array(9000)]);
    let pulled = 0;
    const source = (async function* () {
      for await (const c of chunked(trailing, 1000)) {
        pulled += c.length;
        yield c;
      }
    })();
    for await (const _ of readTar(source)) {
      // nothing
    }
    expect(pulled).toBe(trailing.length);
  });

  test("rejects a bad checksum, truncation and '..' paths", async () => {
    const bad = buildTar([{ name: "x", content: "1" }]);
    bad[0] = "y".charCodeAt(0);
    await expect(readAll(bad, 512)).rejects.toThrow(/checksum mismatch at offset 0/);
    const truncated = buildTar([{ name: "x", content: "z".repeat(2000) }]).subarray(0, 1024);
    await expect(readAll(truncated, 512)).rejects.toThrow(TarFormatError);
    await expect(readAll(buildTar([{ name: "../escape", content: "1" }]), 512)).rejects.toThrow(/".." component/);
  });

  test("normalizeTarPath and parsePaxRecords", () => {
    expect(normalizeTarPath("./a//b/./c/")).toBe("a/b/c");
    expect(normalizeTarPath("/")).toBe("");
    const recs = parsePaxRecords(paxRecords({ path: "ünïcode/päth", size: "12" }));
    expect(recs.get("path")).toBe("ünïcode/päth");
    expect(recs.get("size")).toBe("12");
    expect(() => parsePaxRecords(new TextEncoder().encode("99 path=x\n"))).toThrow(/out of range/);
  });
});
