import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { buildIso, type IsoFile } from "./index.ts";
import { readIso, type IsoEntry, type IsoImage } from "../../../../tests/lib/iso9660-read.ts";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);
const AT = new Date("2024-05-06T07:08:09.120Z");

function cidataFiles(): IsoFile[] {
  return [
    { name: "meta-data", data: text("instance-id: vm-1\nlocal-hostname: vm-1\n") },
    { name: "user-data", data: text("#cloud-config\npassword: secret\n") },
    { name: "network-config", data: text("version: 2\nethernets: {}\n") },
    { name: "vendor-data", data: new Uint8Array(0) },
  ];
}

function byRockRidgeName(image: IsoImage): Map<string, IsoEntry> {
  const out = new Map<string, IsoEntry>();
  for (const e of image.primary.entries) out.set(e.rockRidge?.name ?? `<no NM: ${e.identifier}>`, e);
  return out;
}

function byJolietName(image: IsoImage): Map<string, IsoEntry> {
  const out = new Map<string, IsoEntry>();
  for (const e of image.joliet?.entries ?? []) out.set(e.identifier, e);
  return out;
}

describe("buildIso: a cidata image", () => {
  const files = cidataFiles();
  const iso = buildIso({ volumeId: "cidata", files, modifiedAt: AT });
  const image = readIso(iso);

  test("is whole sectors, with PVD, Joliet SVD and terminator", () => {
    expect(iso.length % 2048).toBe(0);
    expect(image.volumeSpaceSize * 2048).toBe(iso.length);
    expect(image.descriptorTypes).toEqual([1, 2, 255]);
    expect(image.createdAt).toBe("2024050607080912");
  });

  test("records the volume id in both descriptors", () => {
    expect(image.primary.volumeId).toBe("cidata");
    expect(image.joliet?.volumeId).toBe("cidata");
  });

  test("uses 8.3 upper-case identifiers in the primary tree", () => {
    expect(image.primary.entries.map((e) => e.identifier)).toEqual([
      "META_DAT.;1",
      "NETWORK_.;1",
      "USER_DAT.;1",
      "VENDOR_D.;1",
    ]);
  });

  test("keeps the real names in Joliet and Rock Ridge", () => {
    const names = ["meta-data", "network-config", "user-data", "vendor-data"];
    expect(image.joliet?.entries.map((e) => e.identifier)).toEqual(names);
    expect(image.primary.entries.map((e) => e.rockRidge?.name)).toEqual(names);
  });

  test("reads back the exact contents through all three namings", () => {
    const rr = byRockRidgeName(image);
    const joliet = byJolietName(image);
    for (const f of files) {
      expect(decode(rr.get(f.name)?.data ?? text("missing"))).toBe(decode(f.data));
      expect(decode(joliet.get(f.name)?.data ?? text("missing"))).toBe(decode(f.data));
    }
    const primary = new Map(image.primary.entries.map((e) => [e.identifier, e]));
    expect(decode(primary.get("USER_DAT.;1")?.data ?? new Uint8Array())).toBe("#cloud-config\npassword: secret\n");
  });

  test("carries SUSP/Rock Ridge: SP first in the root, ER IEEE_P1282, PX, TF", () => {
    const self = image.primary.self.rockRidge;
    expect(self?.signatures[0]).toBe("SP");
    expect(self?.sp).toBe(true);
    expect(self?.extensions).toEqual(["IEEE_P1282"]);
    expect(self?.signatures).toContain("CE"); // ER does not fit beside SP/PX/TF
    expect(self?.mode).toBe(0o040555);
    expect(self?.links).toBe(2);
    for (const e of image.primary.entries) {
      expect(e.rockRidge?.mode).toBe(0o100444);
      expect(e.rockRidge?.links).toBe(1);
      expect(e.rockRidge?.uid).toBe(0);
      expect(e.rockRidge?.gid).toBe(0);
      expect(e.rockRidge?.modifiedAt?.toISOString()).toBe("2024-05-06T07:08:09.000Z");
      expect(e.recordedAt.toISOString()).toBe("2024-05-06T07:08:09.000Z");
    }
    const serials = [self?.serial, ...image.primary.entries.map((e) => e.rockRidge?.serial)];
    expect(new Set(serials).size).toBe(serials.length);
  });

  test("shares file extents between the primary and Joliet trees", () => {
    const joliet = byJolietName(image);
    for (const [name, e] of byRockRidgeName(image)) {
      expect(joliet.get(name)?.extent).toBe(e.extent);
      expect(joliet.get(name)?.size).toBe(e.size);
    }
  });

  test("is deterministic and independent of the order of files", () => {
    expect(buildIso({ volumeId: "cidata", files: cidataFiles(), modifiedAt: AT })).toEqual(iso);
    const reversed = [...cidataFiles()].reverse();
    expect(buildIso({ volumeId: "cidata", files: reversed, modifiedAt: AT })).toEqual(iso);
  });

  test("defaults modifiedAt to the Unix epoch", () => {
    const epoch = readIso(buildIso({ volumeId: "cidata", files: cidataFiles() }));
    expect(epoch.createdAt).toBe("1970010100000000");
    expect(epoch.primary.entries[0]?.recordedAt.getTime()).toBe(0);
  });
});

describe("buildIso: edge cases", () => {
  test("an empty file set is a valid image", () => {
    const image = readIso(buildIso({ volumeId: "cidata", files: [] }));
    expect(image.primary.entries).toEqual([]);
    expect(image.joliet?.entries).toEqual([]);
  });

  test("clashing 8.3 identifiers get numbered", () => {
    const files = ["user-data", "user-data2", "user-data3", "User-Data"].map((name) => ({ name, data: text(name) }));
    const image = readIso(buildIso({ volumeId: "cidata", files }));
    const ids = image.primary.entries.map((e) => e.identifier);
    expect(new Set(ids).size).toBe(4);
    for (const e of image.primary.entries) expect(decode(e.data)).toBe(e.rockRidge?.name ?? "");
  });

  test("a long non-ASCII name moves NM into a continuation area", () => {
    const name = "雪".repeat(64); // 192 bytes of UTF-8
    const image = readIso(buildIso({ volumeId: "cidata", files: [{ name, data: text("x") }] }));
    const entry = image.primary.entries[0];
    expect(entry?.rockRidge?.name).toBe(name);
    expect(entry?.rockRidge?.signatures).toEqual(["RR", "PX", "TF", "CE", "NM"]);
    expect(image.joliet?.entries[0]?.identifier).toBe(name);
  });

  test("a directory of many files spans several sectors", () => {
    const files = Array.from({ length: 120 }, (_, i) => ({ name: `file-${i}`, data: text(`#${i}`) }));
    const image = readIso(buildIso({ volumeId: "cidata", files }));
    expect(image.primary.root.size).toBeGreaterThan(2048);
    expect(image.joliet?.root.size).toBeGreaterThan(2048);
    expect(image.primary.entries.length).toBe(120);
    const rr = byRockRidgeName(image);
    for (const f of files) expect(decode(rr.get(f.name)?.data ?? new Uint8Array())).toBe(decode(f.data));
  });

  test("Joliet replaces the characters it forbids", () => {
    const image = readIso(buildIso({ volumeId: "cidata", files: [{ name: "a:b", data: text("1") }] }));
    expect(image.joliet?.entries[0]?.identifier).toBe("a_b");
    expect(image.primary.entries[0]?.rockRidge?.name).toBe("a:b");
  });

  test("Joliet keeps the first 16 characters of a long volume id", () => {
    const volumeId = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    const image = readIso(buildIso({ volumeId, files: [] }));
    expect(image.primary.volumeId).toBe(volumeId);
    expect(image.joliet?.volumeId).toBe(volumeId.slice(0, 16));
  });
});

describe("buildIso: rejects bad input", () => {
  const one = (name: string): IsoFile[] => [{ name, data: new Uint8Array(0) }];
  const cases: [string, () => unknown, string][] = [
    ["empty name", () => buildIso({ volumeId: "cidata", files: one("") }), "Cannot build ISO: a file name is empty"],
    ["slash", () => buildIso({ volumeId: "cidata", files: one("x/y") }), 'Cannot build ISO: file name "x/y" contains "/"'],
    ["dot", () => buildIso({ volumeId: "cidata", files: one("..") }), 'Cannot build ISO: file name ".." is reserved'],
    [
      "duplicate",
      () => buildIso({ volumeId: "cidata", files: [...one("user-data"), ...one("user-data")] }),
      'Cannot build ISO: file name "user-data" appears twice',
    ],
    [
      "too long",
      () => buildIso({ volumeId: "cidata", files: one("a".repeat(65)) }),
      "is 65 characters long, Joliet allows at most 64",
    ],
    ["control", () => buildIso({ volumeId: "cidata", files: one("a\nb") }), "contains a control character"],
    [
      "Joliet clash",
      () => buildIso({ volumeId: "cidata", files: [...one("a:b"), ...one("a?b")] }),
      'file names "a:b" and "a?b" both become "a_b" in Joliet',
    ],
    ["empty volume id", () => buildIso({ volumeId: "", files: [] }), 'volume id "" is not 1 to 32 printable ASCII'],
    ["long volume id", () => buildIso({ volumeId: "x".repeat(33), files: [] }), "is not 1 to 32 printable ASCII"],
    ["non-ASCII volume id", () => buildIso({ volumeId: "cïdata", files: [] }), "is not 1 to 32 printable ASCII"],
    [
      "invalid date",
      () => buildIso({ volumeId: "cidata", files: [], modifiedAt: new Date(Number.NaN) }),
      "Cannot build ISO: modifiedAt is not a valid date",
    ],
    [
      "date out of range",
      () => buildIso({ volumeId: "cidata", files: [], modifiedAt: new Date("1899-12-31T00:00:00Z") }),
      "is outside the years 1900..2155",
    ],
  ];
  for (const [label, run, message] of cases) {
    test(label, () => {
      expect(run).toThrow(message);
    });
  }
});

describe("buildIso: property", () => {
  const nameChar = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-_".split(""));
  const name = fc.string({ unit: nameChar, minLength: 1, maxLength: 64 });
  const data = fc.oneof(
    fc.constant(new Uint8Array(0)),
    fc.uint8Array({ maxLength: 64 }),
    fc.uint8Array({ minLength: 2040, maxLength: 6200 }),
  );
  const fileSet = fc.uniqueArray(fc.record({ name, data }), { selector: (f) => f.name, maxLength: 12 });

  test("random file sets round-trip through all three namings", () => {
    fc.assert(
      fc.property(fileSet, (files) => {
        const iso = buildIso({ volumeId: "cidata", files, modifiedAt: AT });
        const image = readIso(iso);
        const rr = byRockRidgeName(image);
        const joliet = byJolietName(image);
        expect(rr.size).toBe(files.length);
        expect(joliet.size).toBe(files.length);
        expect(new Set(image.primary.entries.map((e) => e.identifier)).size).toBe(files.length);
        for (const e of image.primary.entries) expect(e.identifier).toMatch(/^[A-Z0-9_]{1,8}\.[A-Z0-9_]{0,3};1$/);
        for (const f of files) {
          expect(rr.get(f.name)?.data).toEqual(f.data);
          expect(joliet.get(f.name)?.data).toEqual(f.data);
        }
      }),
      { numRuns: 150 },
    );
  });
});
