/** Every domain of the corpus passes libvirt's own RNG schema (virt-xml-validate). */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { domainXml } from "../../src/domain/index.ts";
import { corpus } from "../fixtures/domain-corpus.ts";
import { command, hostTier } from "../lib/host.ts";

const skip = hostTier("domain-schema", [command("virt-xml-validate", "libvirt-clients"), command("xmllint", "libxml2-utils")]);
const dir = mkdtempSync(join(tmpdir(), "bunvirt-domain-schema-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(skip !== null)("domain XML against libvirt's RNG schema", () => {
  for (const c of corpus) {
    test(c.name, () => {
      const file = join(dir, `${c.name}.xml`);
      writeFileSync(file, domainXml(c.vmi, c.spec, c.facts));
      const r = Bun.spawnSync(["virt-xml-validate", file, "domain"], { stderr: "pipe", stdout: "pipe" });
      expect(`${r.stdout.toString()}${r.stderr.toString()}`).toContain("validates");
      expect(r.exitCode).toBe(0);
    });
  }

  test("the validator does reject a broken domain (the check can fail)", () => {
    const file = join(dir, "broken.xml");
    const seed = corpus[0]!;
    writeFileSync(file, domainXml(seed.vmi, seed.spec, seed.facts).replace("<target dev='vda' bus='virtio'/>", "<target dev='vda' bus='floppy-ish'/>"));
    const r = Bun.spawnSync(["virt-xml-validate", file, "domain"], { stderr: "pipe", stdout: "pipe" });
    expect(r.exitCode).not.toBe(0);
  });
});
