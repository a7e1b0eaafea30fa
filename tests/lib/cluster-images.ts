/**
 * The images the cluster tier's node loads, built (or found in their caches)
 * by the project's scripts: no registry, no container engine.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./bunvirt.ts";

export interface NodeImages {
  /** docker-archive of registry.k8s.io/pause:3.10.1 (scripts/cluster/pause.c). */
  pause: string;
  /** docker-archive of bunvirt.local/busybox:1.35. */
  busybox: string;
}

export interface LauncherImage {
  /** docker-archive of the launcher's image. */
  tar: string;
  /** Its name, bunvirt.local/launcher:<hash of inputs>. */
  ref: string;
  /** The measured sizes (packages, uncompressed, compressed). */
  size: string;
}

async function lastLine(script: string, args: string[]): Promise<string> {
  const p = Bun.spawn(["nice", "-n", "10", join(repoRoot, script), ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`Cannot build with ${script}: exit ${code}: ${stderr.trim()}`);
  return stdout.trimEnd().split("\n").pop() ?? "";
}

export async function nodeImages(): Promise<NodeImages> {
  const dir = await lastLine("scripts/cluster/build-node-images.sh", []);
  return { pause: join(dir, "pause.tar"), busybox: join(dir, "busybox.tar") };
}

/** Needs compiled/bunvirt (`bun run build`). */
export async function launcherImage(): Promise<LauncherImage> {
  const binary = join(repoRoot, "compiled/bunvirt");
  if (!existsSync(binary)) throw new Error(`Cannot build the launcher image: "${binary}" is missing (run: bun run build)`);
  const dir = await lastLine("scripts/cluster/build-launcher-image.sh", [binary]);
  return { tar: join(dir, "image.tar"), ref: readFileSync(join(dir, "ref"), "utf8").trim(), size: readFileSync(join(dir, "size"), "utf8").trim() };
}
