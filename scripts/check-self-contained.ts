/**
 * Fails (exit 1) when a file of the repository names a path outside it: the
 * tree must work from a clone with nothing beside it (no ../shared, no
 * developer's checkout). One line per finding: file:line: the path, why.
 *
 *   bun scripts/check-self-contained.ts [--root DIR]
 *
 * This is the static half of the check in scripts/test; it sees every file
 * (tests of every tier, scripts, benchmarks, the README), also code no test
 * runs. The dynamic half (scripts/test) runs the unit and binary tiers from a
 * copy of the tree with no sibling directories, which catches a read outside
 * that no pattern here foresaw. Each path-like literal that starts with "../"
 * is resolved the way it is used:
 *   - in code, from the file's own directory (imports, new URL(.., import.meta.url));
 *     and from the repository root when it follows a repository-root expression
 *     (join(repoRoot, "../x"), `${repo}../x`);
 *   - in a kustomization.yaml, from its directory (kustomize resolves there);
 *   - in scripts and other files, from the repository root (scripts cd there,
 *     commands run there); in Markdown too, unless it stays inside from the
 *     file's directory (a relative link);
 * plus any absolute path into a developer's checkout (/work/, /home/).
 * Not paths read: symlink targets (`ln -s ../bin DIR/usr/bin`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, extname, join, relative, resolve } from "node:path";

const rootAt = process.argv.indexOf("--root");
const root = resolve(rootAt >= 0 ? process.argv[rootAt + 1]! : join(import.meta.dir, ".."));
const self = relative(root, import.meta.path);

/** The tree's files: git's view (tracked and new, not ignored) when it is a checkout, else a walk. */
function files(): string[] {
  const git = Bun.spawnSync(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { stdout: "pipe", stderr: "pipe" });
  if (git.exitCode === 0) return git.stdout.toString().split("\0").filter((f) => f !== "" && !f.startsWith("node_modules/"));
  const skip = new Set(["node_modules", "compiled", ".git"]);
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (skip.has(e.name)) continue;
      const rel = dir === "" ? e.name : `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.isFile()) out.push(rel);
    }
  };
  walk("");
  return out;
}

const escapes = (from: string, path: string): boolean => relative(root, resolve(from, path)).startsWith("..");
const codeExt = new Set([".ts", ".js", ".mjs", ".cjs", ".json"]);
// A "../" that begins a path (not the middle of "/boot/../x"), and the path after it.
const upPath = /(?<![\w.\/~$-])((?:\.\.\/)+[\w.@-]*)/g;
// A "../" path right after an expression naming the repository root.
const afterRepoRoot = /(?:\b(?:repoRoot|repo|REPO|ROOT)\s*,\s*["'`]|\$\{(?:repoRoot|repo|REPO|ROOT)\}\/?)(\.\.\/[\w.@\/-]*)/g;
const checkout = /(?<![\w.-])\/(?:work|home)\/[\w.@\/-]+/g;

const findings: string[] = [];
for (const file of files()) {
  if (file === self) continue;
  let text: string;
  try {
    text = readFileSync(join(root, file), "utf8");
  } catch {
    continue; // listed by git but deleted in the work tree
  }
  if (text.includes("\0")) continue; // binary
  const ext = extname(file);
  // Code and kustomization files name paths relative to their own directory.
  const code = codeExt.has(ext);
  const fromFile = code || basename(file) === "kustomization.yaml";
  const fileDir = join(root, dirname(file));
  text.split("\n").forEach((line, i) => {
    const at = `${file}:${i + 1}`;
    for (const m of line.matchAll(upPath)) {
      const path = m[1]!;
      // A symlink's target is relative to the link (which a script makes elsewhere), not a path read here.
      if (/\bln -sf? $/.test(line.slice(0, m.index))) continue;
      const outside = fromFile ? escapes(fileDir, path) : escapes(root, path) && (ext !== ".md" || escapes(fileDir, path));
      if (outside) findings.push(`${at}: "${path}" is outside the repository (resolved from ${fromFile ? "the file's directory" : "the repository root"})`);
    }
    if (code) {
      for (const m of line.matchAll(afterRepoRoot)) findings.push(`${at}: "${m[1]}" is outside the repository (resolved from the repository root)`);
    }
    for (const m of line.matchAll(checkout)) findings.push(`${at}: "${m[0]}" is a path in a developer's checkout, not in the repository`);
  });
}

if (findings.length > 0) {
  console.error(`Cannot call the tree self-contained: ${findings.length} reference(s) outside ${root}:`);
  for (const f of findings) console.error(`  ${f}`);
  process.exit(1);
}
console.log(`self-contained: no file of ${root} names a path outside it`);
