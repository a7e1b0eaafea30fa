/**
 * buildIso: an ISO 9660 image with Joliet and Rock Ridge, holding a flat root
 * directory, written in memory. Equivalent in content to
 * `xorrisofs -volid cidata -joliet -rock FILES` as used for cloud-init
 * NoCloud "cidata" disks. Pure: no filesystem, clock or environment.
 */
import { asciiBytes, SECTOR_SIZE } from "./bytes.ts";
import { checkIsoDate, encodeRecordingDate } from "./datetime.ts";
import {
  type DirectoryRecordFields,
  directoryRecordLength,
  fixedRecordLength,
  PARENT_IDENTIFIER,
  packDirectory,
  SELF_IDENTIFIER,
  writeDirectoryRecord,
} from "./directory-record.ts";
import { comparePrimary, type FileNaming, planFileNames } from "./file-names.ts";
import { compareJoliet, encodeUcs2 } from "./joliet.ts";
import { type Extent, packContinuationAreas, planLayout } from "./layout.ts";
import { encodeRootPathTable, ROOT_ONLY_PATH_TABLE_SIZE } from "./path-table.ts";
import {
  ceEntry,
  erEntry,
  nmEntry,
  type PosixAttributes,
  placeSystemUse,
  pxEntry,
  RR_NM,
  RR_PX,
  RR_TF,
  rrEntry,
  spEntry,
  type SystemUsePlacement,
  tfEntry,
} from "./rock-ridge.ts";
import {
  encodeJolietVolumeDescriptor,
  encodePrimaryVolumeDescriptor,
  encodeTerminator,
  type VolumeDescriptorFields,
} from "./volume-descriptor.ts";

/** One file of the root directory. */
export interface IsoFile {
  /**
   * The real file name, e.g. "user-data". Required. Must be non-empty, not
   * "." or "..", without "/" or control characters, at most 64 UTF-16 code
   * units (the Joliet limit), and unique. Recorded verbatim in Rock Ridge;
   * Joliet replaces `* : ; ? \` with "_"; the primary tree uses an upper-case
   * 8.3 identifier ("user-data" -> "USER_DAT.;1").
   */
  name: string;
  /** File contents, copied into the image. Required; may be empty. */
  data: Uint8Array;
}

/** Input of buildIso. */
export interface IsoOptions {
  /**
   * Volume identifier, e.g. "cidata" (NoCloud) or "config-2" (config drive).
   * Required: 1 to 32 printable ASCII characters, recorded as given in the
   * primary descriptor; Joliet keeps the first 16 characters.
   */
  volumeId: string;
  /**
   * Files of the root directory. Required; may be empty. The order does not
   * matter: records and data are laid out by name, so any permutation of the
   * same files gives the same bytes.
   */
  files: readonly IsoFile[];
  /**
   * Creation/modification time of the volume and every file and directory
   * (UTC, years 1900..2155). Default: the Unix epoch,
   * 1970-01-01T00:00:00Z, so the image depends only on the other options.
   */
  modifiedAt?: Date;
}

/** Mode, owner and links recorded by Rock Ridge: read-only for everyone, owned by root. */
const ROOT_DIRECTORY_MODE = 0o040555;
const FILE_MODE = 0o100444;
const ROOT_SERIAL = 1;

interface PlannedFile {
  readonly file: IsoFile;
  readonly naming: FileNaming;
  readonly serial: number;
  extent: Extent;
}

interface PendingRecord {
  readonly identifier: Uint8Array;
  readonly isDirectory: boolean;
  /** null: the root directory itself. */
  readonly file: PlannedFile | null;
  readonly placement: SystemUsePlacement;
}

function checkVolumeId(volumeId: string): void {
  if (!/^[\x20-\x7e]{1,32}$/.test(volumeId)) {
    throw new Error(
      `Cannot build ISO: volume id ${JSON.stringify(volumeId)} is not 1 to 32 printable ASCII characters`,
    );
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Builds the whole image; its length is a multiple of 2048. */
export function buildIso(options: IsoOptions): Uint8Array {
  const modifiedAt = options.modifiedAt ?? new Date(0);
  checkIsoDate(modifiedAt, "modifiedAt");
  checkVolumeId(options.volumeId);
  for (const file of options.files) {
    if (!(file.data instanceof Uint8Array)) {
      throw new Error(`Cannot build ISO: data of file ${JSON.stringify(file.name)} is not a Uint8Array`);
    }
    if (file.data.length > 0xffffffff) {
      throw new Error(
        `Cannot build ISO: file ${JSON.stringify(file.name)} is ${file.data.length} bytes, a single extent holds at most 4294967295`,
      );
    }
  }

  const namings = planFileNames(options.files.map((f) => f.name));
  const byName = options.files
    .map((file, i) => ({ file, naming: namings[i] as FileNaming }))
    .sort((a, b) => compareJoliet(a.naming.name, b.naming.name));
  const planned: PlannedFile[] = byName.map((entry, i) => ({
    ...entry,
    serial: ROOT_SERIAL + 1 + i,
    extent: { sector: 0, sectors: 0 },
  }));

  const recordedAt = encodeRecordingDate(modifiedAt);
  const tf = tfEntry(modifiedAt);
  const rootAttributes: PosixAttributes = { mode: ROOT_DIRECTORY_MODE, links: 2, uid: 0, gid: 0, serial: ROOT_SERIAL };
  const rootPx = pxEntry(rootAttributes);

  // Primary tree: ".", "..", then files in ECMA-119 9.3 order, with Rock Ridge.
  const primaryRecords: PendingRecord[] = [
    {
      identifier: SELF_IDENTIFIER,
      isDirectory: true,
      file: null,
      placement: placeSystemUse(fixedRecordLength(1), [spEntry(), rrEntry(RR_PX | RR_TF), rootPx, tf, erEntry()]),
    },
    {
      identifier: PARENT_IDENTIFIER,
      isDirectory: true,
      file: null,
      placement: placeSystemUse(fixedRecordLength(1), [rrEntry(RR_PX | RR_TF), rootPx, tf]),
    },
  ];
  for (const file of [...planned].sort((a, b) => comparePrimary(a.naming.primary, b.naming.primary))) {
    const identifier = asciiBytes(file.naming.primary);
    const attributes: PosixAttributes = { mode: FILE_MODE, links: 1, uid: 0, gid: 0, serial: file.serial };
    primaryRecords.push({
      identifier,
      isDirectory: false,
      file,
      placement: placeSystemUse(fixedRecordLength(identifier.length), [
        rrEntry(RR_PX | RR_TF | RR_NM),
        pxEntry(attributes),
        tf,
        nmEntry(file.naming.name),
      ]),
    });
  }

  // Joliet tree: same extents, UCS-2 names, no System Use.
  const jolietRecords: PendingRecord[] = [
    { identifier: SELF_IDENTIFIER, isDirectory: true, file: null, placement: placeSystemUse(0, []) },
    { identifier: PARENT_IDENTIFIER, isDirectory: true, file: null, placement: placeSystemUse(0, []) },
  ];
  for (const file of [...planned].sort((a, b) => compareJoliet(a.naming.joliet, b.naming.joliet))) {
    jolietRecords.push({
      identifier: encodeUcs2(file.naming.joliet),
      isDirectory: false,
      file,
      placement: placeSystemUse(0, []),
    });
  }

  const recordLength = (r: PendingRecord): number =>
    directoryRecordLength(r.identifier.length, r.placement.inlineLength);
  const primaryPacked = packDirectory(primaryRecords.map(recordLength));
  const jolietPacked = packDirectory(jolietRecords.map(recordLength));
  const spilled = primaryRecords.filter((r) => r.placement.continuationLength > 0);
  const continuationPacked = packContinuationAreas(spilled.map((r) => r.placement.continuationLength));

  const layout = planLayout({
    pathTableSize: ROOT_ONLY_PATH_TABLE_SIZE,
    primaryDirectoryBytes: primaryPacked.byteLength,
    jolietDirectoryBytes: jolietPacked.byteLength,
    continuationBytes: continuationPacked.byteLength,
    fileSizes: planned.map((p) => p.file.data.length),
  });
  planned.forEach((p, i) => {
    p.extent = layout.files[i] ?? p.extent;
  });

  const image = new Uint8Array(layout.totalSectors * SECTOR_SIZE);
  const at = (sector: number): number => sector * SECTOR_SIZE;

  const writeTree = (
    records: readonly PendingRecord[],
    offsets: readonly number[],
    directory: Extent,
    continuationOf: Map<PendingRecord, Uint8Array> | null,
  ): void => {
    records.forEach((record, i) => {
      const systemUse = [...record.placement.inline];
      const ce = continuationOf?.get(record);
      if (ce !== undefined) systemUse.push(ce);
      const fields: DirectoryRecordFields = {
        extent: record.file === null ? directory.sector : record.file.extent.sector,
        dataLength: record.file === null ? directory.sectors * SECTOR_SIZE : record.file.file.data.length,
        recordedAt,
        isDirectory: record.isDirectory,
        identifier: record.identifier,
        systemUse,
      };
      writeDirectoryRecord(image, at(directory.sector) + (offsets[i] ?? 0), fields);
    });
  };

  // Continuation areas and their CE pointers.
  const ceOf = new Map<PendingRecord, Uint8Array>();
  spilled.forEach((record, i) => {
    const slot = continuationPacked.slots[i];
    if (slot === undefined) return;
    const sector = layout.continuation.sector + slot.sector;
    image.set(concat(record.placement.continuation), at(sector) + slot.offset);
    ceOf.set(record, ceEntry(sector, slot.offset, record.placement.continuationLength));
  });

  writeTree(primaryRecords, primaryPacked.offsets, layout.primaryDirectory, ceOf);
  writeTree(jolietRecords, jolietPacked.offsets, layout.jolietDirectory, null);

  const rootRecord = (directory: Extent): Uint8Array => {
    const out = new Uint8Array(34);
    writeDirectoryRecord(out, 0, {
      extent: directory.sector,
      dataLength: directory.sectors * SECTOR_SIZE,
      recordedAt,
      isDirectory: true,
      identifier: SELF_IDENTIFIER,
      systemUse: [],
    });
    return out;
  };
  const descriptor = (
    root: Extent,
    l: Extent,
    m: Extent,
  ): VolumeDescriptorFields => ({
    volumeId: options.volumeId,
    volumeSpaceSize: layout.totalSectors,
    pathTableSize: ROOT_ONLY_PATH_TABLE_SIZE,
    lPathTableExtent: l.sector,
    mPathTableExtent: m.sector,
    rootRecord: rootRecord(root),
    createdAt: modifiedAt,
  });
  image.set(
    encodePrimaryVolumeDescriptor(descriptor(layout.primaryDirectory, layout.primaryLPathTable, layout.primaryMPathTable)),
    at(layout.primaryVolumeDescriptor),
  );
  image.set(
    encodeJolietVolumeDescriptor(descriptor(layout.jolietDirectory, layout.jolietLPathTable, layout.jolietMPathTable)),
    at(layout.jolietVolumeDescriptor),
  );
  image.set(encodeTerminator(), at(layout.terminator));
  image.set(encodeRootPathTable(layout.primaryDirectory.sector, "L"), at(layout.primaryLPathTable.sector));
  image.set(encodeRootPathTable(layout.primaryDirectory.sector, "M"), at(layout.primaryMPathTable.sector));
  image.set(encodeRootPathTable(layout.jolietDirectory.sector, "L"), at(layout.jolietLPathTable.sector));
  image.set(encodeRootPathTable(layout.jolietDirectory.sector, "M"), at(layout.jolietMPathTable.sector));

  for (const p of planned) {
    if (p.file.data.length > 0) image.set(p.file.data, at(p.extent.sector));
  }
  return image;
}
