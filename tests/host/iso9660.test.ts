/**
 * Host tier: images from the in-process ISO 9660 writer, checked by the real
 * tools that consume or produce cidata disks: xorriso (libisofs reader),
 * isoinfo/isovfy (genisoimage), blkid (how cloud-init finds "cidata"), the
 * kernel's isofs via a loop mount, and a side-by-side comparison with
 * `xorrisofs -volid cidata -joliet -rock` as KubeVirt runs it.
 *
 *   bun test ./tests/host/iso9660.test.ts
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { buildIso } from "../../src/storage/cloudinit/iso9660/index.ts";
import { command, hostTier, root } from "../lib/host.ts";

const skip = hostTier("iso9660", [
  command("xorriso", "xorriso"),
  command("xorrisofs", "xorriso"),
  command("isoinfo", "genisoimage"),
  command("isovfy", "genisoimage"),
  command("blkid", "util-linux"),
]);

/** Kernel support for a loop mount; a kernel without isofs is not an install step, so this only skips. */
function mountSkipReason(): string | null {
  if (skip !== null) return skip;
  const rootReason = hostTier("iso9660 loop mount", [root, command("mount", "mount"), command("umount", "mount")]);
  if (rootReason !== null) return rootReason;
  const known = existsSync("/proc/filesystems") && /\biso9660\b/.test(readFileSync("/proc/filesystems", "utf8"));
  if (known || existsSync(`/lib/modules/${release()}/kernel/fs/isofs`)) return null;
  const reason = `iso9660 loop mount: skipped: kernel ${release()} has no iso9660 filesystem (fs/isofs)`;
  console.warn(reason);
  return reason;
}
const mountSkip = mountSkipReason();

const FILES: Record<string, string> = {
  "meta-data": "instance-id: vm-0123\nlocal-hostname: vm-0123\n",
  // Longer than a sector, so the data spans several blocks.
  "user-data": `#cloud-config\nssh_authorized_keys:\n${"  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI key\n".repeat(80)}`,
  "network-config": "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n",
};
const NAMES = Object.keys(FILES).sort();

interface Run {
  readonly code: number;
  readonly stdout: Uint8Array;
  readonly text: string;
  readonly stderr: string;
}

function run(argv: string[]): Run {
  const p = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  const stdout = new Uint8Array(p.stdout);
  return { code: p.exitCode ?? -1, stdout, text: new TextDecoder().decode(stdout), stderr: p.stderr.toString() };
}

function ok(argv: string[]): Run {
  const r = run(argv);
  if (r.code !== 0) throw new Error(`Cannot run "${argv.join(" ")}": exit ${r.code}: ${r.stderr}${r.text}`);
  return r;
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe.skipIf(skip !== null)("iso9660 writer against real tools", () => {
  let dir = "";
  let mine = "";
  let reference = "";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bunvirt-iso9660-"));
    const src = join(dir, "src");
    mkdirSync(src);
    for (const [name, content] of Object.entries(FILES)) writeFileSync(join(src, name), content);
    mine = join(dir, "mine.iso");
    reference = join(dir, "xorrisofs.iso");
    const image = buildIso({
      volumeId: "cidata",
      files: Object.entries(FILES).map(([name, content]) => ({ name, data: bytes(content) })),
      modifiedAt: new Date("2025-01-02T03:04:05Z"),
    });
    writeFileSync(mine, image);
    ok(["xorrisofs", "-output", reference, "-volid", "cidata", "-joliet", "-rock", ...NAMES.map((n) => join(src, n))]);
  });

  afterAll(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test("isovfy finds no structural errors", () => {
    const r = ok(["isovfy", mine]);
    expect(r.text).toContain("No errors found");
  });

  test("isoinfo -d reports volume id cidata, Joliet and Rock Ridge", () => {
    const r = ok(["isoinfo", "-d", "-i", mine]);
    expect(r.text).toMatch(/^Volume id: cidata$/m);
    expect(r.text).toMatch(/^Logical block size is: 2048$/m);
    expect(r.text).toMatch(/^Volume size is: (\d+)$/m);
    const size = Number(/^Volume size is: (\d+)$/m.exec(r.text)?.[1]);
    expect(size * 2048).toBe(statSync(mine).size);
    expect(r.text).toContain("Joliet with UCS level 3 found");
    expect(r.text).toContain("Rock Ridge signatures version 1 found");
  });

  test("isoinfo lists all three namings", () => {
    const list = (flag: string[]): string[] => ok(["isoinfo", ...flag, "-f", "-i", mine]).text.trim().split("\n");
    expect(list(["-R"])).toEqual(NAMES.map((n) => `/${n}`));
    expect(list(["-J"])).toEqual(NAMES.map((n) => `/${n}`));
    expect(list([])).toEqual(["/META_DAT.;1", "/NETWORK_.;1", "/USER_DAT.;1"]);
    const long = ok(["isoinfo", "-R", "-l", "-i", mine]).text;
    expect(long).toMatch(/^-r--r--r-- +1 +0 +0 +\d+ .* user-data $/m);
  });

  test("isoinfo extracts the exact bytes through Rock Ridge, Joliet and the primary tree", () => {
    const primary: Record<string, string> = {
      "meta-data": "/META_DAT.;1",
      "network-config": "/NETWORK_.;1",
      "user-data": "/USER_DAT.;1",
    };
    for (const name of NAMES) {
      const want = bytes(FILES[name] ?? "");
      expect(ok(["isoinfo", "-R", "-x", `/${name}`, "-i", mine]).stdout).toEqual(want);
      expect(ok(["isoinfo", "-J", "-x", `/${name}`, "-i", mine]).stdout).toEqual(want);
      expect(ok(["isoinfo", "-x", primary[name] ?? "", "-i", mine]).stdout).toEqual(want);
    }
  });

  test("xorriso loads the Rock Ridge tree without a warning and reads every block", () => {
    // -return_with WARNING 32: any WARNING, SORRY or FAILURE makes the exit code 32.
    const r = ok([
      "xorriso", "-return_with", "WARNING", "32", "-indev", mine,
      "-toc", "-check_media", "--", "-find", "/", "-exec", "report_lba", "--", "-lsl", "/",
    ]);
    const all = r.text + r.stderr;
    expect(all).toContain("ISO offers   : Rock_Ridge Joliet");
    expect(all).toContain("ISO loaded   : Rock_Ridge");
    expect(all).toMatch(/Media region : +0 , +\d+ , \+ good/);
    for (const name of NAMES) {
      expect(all).toMatch(new RegExp(`^-r--r--r-- +1 0 +0 +\\d+ .*'${name}'$`, "m"));
      expect(all).toMatch(new RegExp(`File data lba: +0 , +\\d+ , +\\d+ , +${FILES[name]?.length} , '/${name}'`));
    }
    expect(all).not.toMatch(/WARNING|SORRY|FAILURE/);
  });

  test("xorriso extracts the same files", () => {
    const out = join(dir, "extracted");
    ok(["xorriso", "-return_with", "WARNING", "32", "-osirrox", "on", "-indev", mine, "-extract", "/", out]);
    expect(readdirSync(out).sort()).toEqual(NAMES);
    for (const name of NAMES) expect(readFileSync(join(out, name), "utf8")).toBe(FILES[name] ?? "");
    rmSync(out, { recursive: true, force: true, maxRetries: 0 });
  });

  test("blkid sees an iso9660 filesystem labelled cidata, as cloud-init looks for it", () => {
    const r = ok(["blkid", "-p", "-o", "export", mine]);
    expect(r.text).toMatch(/^TYPE=iso9660$/m);
    expect(r.text).toMatch(/^LABEL=cidata$/m);
  });

  test("reads back like an image from xorrisofs -volid cidata -joliet -rock", () => {
    const view = (iso: string): unknown => {
      const info = ok(["isoinfo", "-d", "-i", iso]).text;
      const tree = (flag: string): { list: string[]; data: string[] } => {
        const list = ok(["isoinfo", flag, "-f", "-i", iso]).text.trim().split("\n");
        return { list, data: list.map((p) => ok(["isoinfo", flag, "-x", p, "-i", iso]).text) };
      };
      const xorrisoFind = ok(["xorriso", "-indev", iso, "-find", "/", "-type", "f", "--"]).text.trim().split("\n");
      return {
        volumeId: /^Volume id: (.*)$/m.exec(info)?.[1],
        joliet: info.includes("Joliet with UCS level 3 found"),
        rockRidge: info.includes("Rock Ridge signatures version 1 found"),
        rr: tree("-R"),
        j: tree("-J"),
        primaryNames: ok(["isoinfo", "-f", "-i", iso]).text.trim().split("\n"),
        xorrisoFind,
      };
    };
    expect(view(mine)).toEqual(view(reference));
  });
});

describe.skipIf(mountSkip !== null)("iso9660 writer: loop mount by the kernel", () => {
  let dir = "";
  let mountpoint = "";
  let mounted = false;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bunvirt-iso9660-mount-"));
    const iso = join(dir, "cidata.iso");
    mountpoint = join(dir, "mnt");
    mkdirSync(mountpoint);
    writeFileSync(
      iso,
      buildIso({
        volumeId: "cidata",
        files: Object.entries(FILES).map(([name, content]) => ({ name, data: bytes(content) })),
      }),
    );
    ok(["mount", "-t", "iso9660", "-o", "loop,ro", iso, mountpoint]);
    mounted = true;
  });

  afterAll(() => {
    if (mounted) run(["umount", mountpoint]);
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test("the kernel shows the Rock Ridge names, modes and contents", () => {
    expect(readdirSync(mountpoint).sort()).toEqual(NAMES);
    for (const name of NAMES) {
      const path = join(mountpoint, name);
      expect(readFileSync(path, "utf8")).toBe(FILES[name] ?? "");
      expect(statSync(path).mode & 0o7777).toBe(0o444);
    }
  });
});
