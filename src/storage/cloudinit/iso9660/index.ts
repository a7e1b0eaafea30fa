/**
 * In-process ISO 9660 writer (Joliet + Rock Ridge) for cloud-init NoCloud
 * "cidata" disks; replaces `xorrisofs -volid cidata -joliet -rock FILES`.
 */
export { buildIso } from "./build-iso.ts";
export type { IsoFile, IsoOptions } from "./build-iso.ts";
