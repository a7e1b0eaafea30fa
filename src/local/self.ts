/** How this program starts itself again (e.g. inside a network namespace). */

/** argv prefix that runs bunvirt: the compiled executable, or bun + the entry script. */
export function selfCommand(): string[] {
  const main = Bun.main;
  // In a compiled executable the entry lives in Bun's embedded filesystem.
  if (main.startsWith("/$bunfs/") || main.startsWith("B:/~BUN/")) return [process.execPath];
  return [process.execPath, main];
}
