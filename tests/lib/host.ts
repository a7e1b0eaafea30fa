/**
 * Gatekeeping for the host tier (tests/host): real libvirtd, QEMU, qemu-img,
 * registries, network namespaces. A test file calls `hostTier([...])` with
 * what it needs and wraps its suite in `describe.skipIf(reason !== null)`.
 *
 * Requirements are what the machine has (root, commands from Debian packages,
 * toolchain builds the test command makes before any tier, such as the
 * Kubernetes binaries), never fixtures of another test file: a suite builds the fixtures it needs in beforeAll through the
 * idempotent scripts (tests/host/fixtures/guest/build.ts), so it never depends
 * on another test file having run first.
 *
 * When BUNVIRT_REQUIRE_HOST=1 (scripts/test sets it after installing every
 * dependency), a missing requirement is a failure, not a skip: a skip there
 * would hide a broken install step.
 */

import { existsSync } from "node:fs";

export type Requirement =
  | { kind: "root" }
  | { kind: "command"; name: string; pkg: string }
  | { kind: "built"; path: string; by: string };

export const root: Requirement = { kind: "root" };
export const command = (name: string, pkg: string): Requirement => ({ kind: "command", name, pkg });
/** A tool the test command builds before the tiers (`by` says how), e.g. kube-apiserver. */
export const built = (path: string, by: string): Requirement => ({ kind: "built", path, by });

function missing(req: Requirement): string | null {
  switch (req.kind) {
    case "root":
      return process.getuid?.() === 0 ? null : "needs root (network namespaces, libvirtd)";
    case "command":
      return Bun.which(req.name) !== null ? null : `needs '${req.name}' (Debian package ${req.pkg})`;
    case "built":
      return existsSync(req.path) ? null : `needs '${req.path}' (${req.by})`;
  }
}

/** Returns null when every requirement is met, else the reason to skip. */
export function hostTier(suite: string, reqs: Requirement[]): string | null {
  const reasons = reqs.map(missing).filter((r): r is string => r !== null);
  if (reasons.length === 0) return null;
  const reason = `${suite}: skipped: ${reasons.join("; ")}`;
  if (process.env.BUNVIRT_REQUIRE_HOST === "1") {
    throw new Error(`Cannot run host tier suite '${suite}': ${reasons.join("; ")}`);
  }
  console.warn(reason);
  return reason;
}
