import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectConsoleSocket, openSocketNoFollow } from "./console-socket.ts";

const dir = realpathSync(mkdtempSync(join(tmpdir(), "bunvirt-csock-")));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("console socket opened without following symlinks", () => {
  test("a socket deeper than a socket address allows is reached through its descriptor", async () => {
    const deep = join(dir, "a".repeat(60), "b".repeat(60));
    mkdirSync(deep, { recursive: true });
    const real = join(deep, "serial0");
    expect(real.length).toBeGreaterThan(108);
    // The server binds through a short relative name (its own address limit), the client never uses the path.
    const server = createServer((s) => s.end("hi"));
    const here = process.cwd();
    process.chdir(deep);
    try {
      await new Promise<void>((r) => server.listen("serial0", r));
    } finally {
      process.chdir(here);
    }
    try {
      const s = await connectConsoleSocket(real);
      const got = await new Promise<string>((r) => s.once("data", (d) => r(d.toString())));
      expect(got).toBe("hi");
      s.destroy();
    } finally {
      server.close();
    }
  });

  test("a symlink in place of the socket is refused, its target untouched", () => {
    const target = join(dir, "target-file");
    writeFileSync(target, "x");
    symlinkSync(target, join(dir, "link0"));
    expect(() => openSocketNoFollow(join(dir, "link0"))).toThrow("is a symlink");
  });

  test("a directory on the way that is a symlink is refused", async () => {
    const realDir = join(dir, "real");
    mkdirSync(realDir);
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(join(realDir, "serial0"), r));
    symlinkSync(realDir, join(dir, "console"));
    try {
      expect(() => openSocketNoFollow(join(dir, "console", "serial0"))).toThrow(`resolves to "${join(realDir, "serial0")}"`);
    } finally {
      server.close();
    }
  });

  test("a regular file or a missing socket is refused", () => {
    writeFileSync(join(dir, "plain"), "");
    expect(() => openSocketNoFollow(join(dir, "plain"))).toThrow("is not a socket");
    expect(() => openSocketNoFollow(join(dir, "none"))).toThrow("does not exist");
  });
});
