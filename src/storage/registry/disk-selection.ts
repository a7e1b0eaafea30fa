/**
 * Which file of the image is the disk, after applying the layers in order
 * with their whiteouts. KubeVirt's rule: the single regular file directly
 * under /disk/, or the file at the volume's `path` when one is given.
 * Pure: works on the change lists that layer extraction produced.
 */
import { ImageError } from "./errors.ts";
import type { TarEntryType } from "./tar-reader.ts";

export type DiskScope = { readonly kind: "dir"; readonly dir: string } | { readonly kind: "file"; readonly path: string };

export const DEFAULT_DISK_DIR = "disk";

/** A change of one layer that can matter for the disk. */
export type LayerChange =
  | { readonly op: "whiteout"; readonly path: string }
  | { readonly op: "opaque"; readonly dir: string }
  | {
      readonly op: "entry";
      readonly path: string;
      readonly type: TarEntryType;
      readonly size: number;
      readonly linkPath: string;
      readonly sparse: boolean;
      /** Where the content was written, for candidate regular files. */
      readonly tempFile?: string;
    };

export interface SelectedDisk {
  /** Path in the image, without leading "/". */
  readonly path: string;
  readonly size: number;
  readonly tempFile: string;
}

export class InvalidDiskPathError extends Error {
  constructor(path: string, reason: string) {
    super(`Cannot use disk path "${path}": ${reason}`);
    this.name = "InvalidDiskPathError";
  }
}

/** The scope for an optional volume `path`: absolute, no "..", not "/". */
export function diskScope(path?: string): DiskScope {
  if (path === undefined || path === "") return { kind: "dir", dir: DEFAULT_DISK_DIR };
  if (!path.startsWith("/")) throw new InvalidDiskPathError(path, "it must be absolute");
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new InvalidDiskPathError(path, "it must not contain \"..\"");
  if (parts.length === 0) throw new InvalidDiskPathError(path, "it must not be \"/\"");
  if (path.endsWith("/")) throw new InvalidDiskPathError(path, "it must name a file, not a directory");
  return { kind: "file", path: parts.join("/") };
}

export function scopeRoot(scope: DiskScope): string {
  return scope.kind === "dir" ? scope.dir : scope.path;
}

/** Is `path` an ancestor of, equal to, or below the scope root? */
export function isRelated(path: string, scope: DiskScope): boolean {
  const root = scopeRoot(scope);
  return path === "" || path === root || root.startsWith(`${path}/`) || path.startsWith(`${root}/`);
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

/** Whether a regular file at `path` could be the disk (so its content is kept). */
export function isCandidate(path: string, scope: DiskScope): boolean {
  return scope.kind === "dir" ? parentOf(path) === scope.dir : path === scope.path;
}

type Node = Extract<LayerChange, { op: "entry" }>;

/** Applies the layers' changes in order; returns the resulting entries by path. */
export function mergeLayers(layers: readonly (readonly LayerChange[])[]): Map<string, Node> {
  const state = new Map<string, Node>();
  const removeBelow = (dir: string, inclusive: boolean): void => {
    for (const key of [...state.keys()]) {
      if ((inclusive && key === dir) || dir === "" || key.startsWith(`${dir}/`)) {
        if (dir === "" && key === "" && !inclusive) continue;
        state.delete(key);
      }
    }
  };
  for (const changes of layers) {
    // Whiteouts hide content of lower layers only: apply them first.
    for (const change of changes) {
      if (change.op === "whiteout") removeBelow(change.path, true);
      else if (change.op === "opaque") removeBelow(change.dir, false);
    }
    for (const change of changes) {
      if (change.op !== "entry") continue;
      let node: Node = change;
      if (change.type === "hardlink") {
        const target = state.get(change.linkPath);
        if (target !== undefined && target.type === "file" && target.tempFile !== undefined) {
          node = { ...change, type: "file", size: target.size, sparse: target.sparse, tempFile: target.tempFile };
        }
      }
      if (node.type !== "directory") removeBelow(node.path, false);
      const lower = state.get(node.path);
      if (node.type === "directory" && lower?.type === "directory") continue;
      state.set(node.path, node);
    }
  }
  return state;
}

function describe(node: Node): string {
  const shown = `/${node.path}`;
  switch (node.type) {
    case "file":
      return `"${shown}" (${node.size} bytes)`;
    case "directory":
      return `"${shown}/" (directory)`;
    case "symlink":
      return `"${shown}" (symlink to "${node.linkPath}")`;
    case "hardlink":
      return `"${shown}" (hard link to "/${node.linkPath}")`;
    case "other":
      return `"${shown}" (special file)`;
  }
}

/** The KubeVirt rule over the merged layers; throws ImageError naming what was found. */
export function selectDisk(layers: readonly (readonly LayerChange[])[], scope: DiskScope): SelectedDisk {
  const state = mergeLayers(layers);
  const root = scopeRoot(scope);
  if (scope.kind === "file") {
    const node = state.get(root);
    if (node === undefined) {
      throw new ImageError("no-disk", `the image has no file at "/${root}" (the volume's path)`);
    }
    if (node.type !== "file" || node.tempFile === undefined) {
      throw new ImageError("no-disk", `the image has no regular file at "/${root}": found ${describe(node)}`);
    }
    if (node.sparse) throw new ImageError("unsupported", `the disk "/${root}" is stored as a GNU sparse tar entry, which is not supported`);
    return { path: root, size: node.size, tempFile: node.tempFile };
  }
  const dirNode = state.get(root);
  const below = [...state.values()].filter((n) => n.path.startsWith(`${root}/`)).sort((a, b) => a.path.localeCompare(b.path));
  const files = below.filter((n) => n.type === "file" && parentOf(n.path) === root);
  if (files.length === 1) {
    const only = files[0] as Node;
    if (only.tempFile === undefined) throw new ImageError("invalid-image", `the content of "/${only.path}" was not kept`);
    if (only.sparse) throw new ImageError("unsupported", `the disk "/${only.path}" is stored as a GNU sparse tar entry, which is not supported`);
    return { path: only.path, size: only.size, tempFile: only.tempFile };
  }
  if (files.length === 0) {
    let found: string;
    if (dirNode !== undefined && dirNode.type !== "directory") found = `/${root} itself is ${describe(dirNode)}`;
    else if (below.length === 0) found = dirNode === undefined ? `no /${root}/ directory at all` : `/${root}/ is empty`;
    else found = `only ${below.map(describe).join(", ")}`;
    throw new ImageError("no-disk", `the image has no disk: no regular file directly under /${root}/ (found ${found})`);
  }
  throw new ImageError(
    "multiple-disks",
    `the image has ${files.length} files directly under /${root}/ (${files.map(describe).join(", ")}); exactly one is allowed, or give the volume a path`,
  );
}
