/**
 * ECMA-119 9.4 path tables. The image has one directory per tree (the flat
 * root), so each table holds a single record: the root, its own parent.
 */
import { writeU16BE, writeU16LE, writeU32BE, writeU32LE } from "./bytes.ts";

/** "L" (type L, little-endian) or "M" (type M, big-endian). */
export type PathTableByteOrder = "L" | "M";

/** Size in bytes of a path table holding only the root. */
export const ROOT_ONLY_PATH_TABLE_SIZE = 10;

/** The path table of a tree whose only directory is the root at `rootExtent`. */
export function encodeRootPathTable(rootExtent: number, order: PathTableByteOrder): Uint8Array {
  const out = new Uint8Array(ROOT_ONLY_PATH_TABLE_SIZE);
  out[0] = 1; // length of directory identifier
  out[1] = 0; // extended attribute record length
  if (order === "L") {
    writeU32LE(out, 2, rootExtent);
    writeU16LE(out, 6, 1);
  } else {
    writeU32BE(out, 2, rootExtent);
    writeU16BE(out, 6, 1);
  }
  out[8] = 0; // root identifier (0x00)
  out[9] = 0; // padding: identifier length is odd
  return out;
}
