/**
 * Checks the layout rules a person and a tool can both see:
 * - every file name under src/, tests/, bench/ and scripts/ is kebab-case
 *   (lower-case words joined by '-', dots only before the extension parts);
 * - src/ holds what ships: every non-test module under src/ is reached by
 *   imports from src/main.ts (or from the build step that generates the
 *   CRDs from the same schemas), so test helpers and contract suites live
 *   under tests/.
 * Exit 1 with one line per problem.
 */
import { readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const repo = resolve(import.meta.dir, "..");
const problems: string[] = [];

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

// File names: "foo-bar.ts", "foo-bar.test.ts", "foo.fuzz.test.ts", "10-bridge.conflist"; no upper case, no '_'.
const kebab = /^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*$/;
for (const top of ["src", "tests", "bench", "scripts"]) {
  for (const file of walk(join(repo, top))) {
    const rel = relative(repo, file);
    if (rel.includes("/k8s-module/")) continue; // a Go module: go.mod/go.sum are Go's names
    const base = rel.split("/").pop()!;
    if (!kebab.test(base)) problems.push(`${rel}: file names are kebab-case (lower-case words joined by "-")`);
  }
}

// src/ holds what ships: the import graph from src/main.ts covers every non-test module.
// Type-only imports count too: a module of types ships as part of what uses it.
const importFrom = /(?:import|export)\s[^;]*?from\s*["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g;
const reached = new Set<string>();
const roots = ["src/main.ts", "scripts/gen-crds.ts"];
const todo = roots.map((r) => join(repo, r));
while (todo.length > 0) {
  const file = todo.pop()!;
  if (reached.has(file)) continue;
  reached.add(file);
  const source = await Bun.file(file).text();
  for (const m of source.matchAll(importFrom)) {
    const target = resolve(dirname(file), m[1] ?? m[2]!);
    if (target.endsWith(".ts")) todo.push(target);
  }
}
for (const file of walk(join(repo, "src"))) {
  if (!file.endsWith(".ts") || /\.test\.ts$/.test(file)) continue;
  if (!reached.has(file)) problems.push(`${relative(repo, file)}: not reached from src/main.ts; src/ holds what ships in compiled/bunvirt (test code goes under tests/)`);
}

// Child processes start through src/process/own-children.ts: the launcher's orphan reaper must know Bun's own.
for (const file of walk(join(repo, "src"))) {
  if (!file.endsWith(".ts") || /\.test\.ts$/.test(file) || file.endsWith("/process/own-children.ts")) continue;
  if (/\bBun\.spawn\(|\bnode:child_process\b/.test(await Bun.file(file).text())) {
    problems.push(`${relative(repo, file)}: starts a process without spawnOwn (src/process/own-children.ts), which the launcher's orphan reaper relies on`);
  }
}

for (const p of problems) console.error(p);
if (problems.length > 0) process.exit(1);
console.log(`tree: ${reached.size} shipped modules, file names kebab-case, processes started through spawnOwn`);
