/**
 * A sample of the hostile manifests the unit fuzz test generates
 * (src/domain/domain-xml.fuzz.test.ts): every one admission accepts is
 * written to a file that xmllint finds well-formed and libvirt's own RNG
 * schema (virt-xml-validate) accepts. metadata.name/namespace stay
 * ordinary here: their rules are the names checks', not this file's.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { command, hostTier } from "../lib/host.ts";
import { hostileManifest, throughDomain } from "../lib/hostile-manifests.ts";
import { parseXml } from "../lib/xml-wellformed.ts";

const skip = hostTier("domain-fuzz", [command("virt-xml-validate", "libvirt-clients"), command("xmllint", "libxml2-utils")]);
const dir = mkdtempSync(join(tmpdir(), "bunvirt-domain-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SAMPLE = 400;
const WANT = 40;

const run = (argv: string[]): { code: number; out: string } => {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: `${r.stdout.toString()}${r.stderr.toString()}` };
};

describe.skipIf(skip !== null)("hostile manifests' domains against xmllint and libvirt's schema", () => {
  const written: { name: string; xml: string }[] = [];
  let refused = 0;
  const samples = fc.sample(fc.tuple(hostileManifest({ hostileNames: false }), fc.boolean()), { numRuns: SAMPLE, seed: 9009 });
  for (const [i, [manifest, emulation]] of samples.entries()) {
    const out = throughDomain(manifest, emulation);
    if ("refused" in out) refused++;
    else if (written.length < WANT) written.push({ name: `fuzz-${i}`, xml: out.xml });
  }

  test("the sample has both outcomes", () => {
    expect(written.length).toBe(WANT);
    expect(refused).toBeGreaterThan(0);
  });

  for (const { name, xml } of written) {
    test(`${name}: well-formed (xmllint) and valid (virt-xml-validate)`, () => {
      const file = join(dir, `${name}.xml`);
      writeFileSync(file, xml);
      const lint = run(["xmllint", "--noout", file]);
      expect(lint.out).toBe("");
      expect(lint.code).toBe(0);
      const valid = run(["virt-xml-validate", file, "domain"]);
      expect(valid.out).toContain("validates");
      expect(valid.code).toBe(0);
    });
  }

  test("every bound at its maximum still validates: 256 disks, 256-character serial, 4Pi memory, 4096 vCPUs, boot order 2^32-1", () => {
    const buses = [{ disk: { bus: "virtio" } }, { disk: { bus: "scsi" } }, { cdrom: { bus: "sata" } }, { disk: { bus: "usb" } }];
    const disks = Array.from({ length: 256 }, (_, i) => ({ name: `d${i}`, ...buses[i % 4], ...(i === 0 ? { serial: "S".repeat(256), bootOrder: 2 ** 32 - 1 } : {}) }));
    const vmi = {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstance",
      metadata: { name: "limits", uid: "5d307ca9-b3ef-428c-8861-06e72d69f223" },
      spec: {
        domain: { cpu: { sockets: 16, cores: 128, threads: 2, model: "Haswell-noTSX" }, resources: { requests: { memory: "4Pi" } }, devices: { disks } },
        volumes: disks.map((d) => ({ name: d.name, emptyDisk: { capacity: "2Pi" } })),
      },
    };
    const out = throughDomain(vmi, true);
    if ("refused" in out) throw new Error(`refused: ${JSON.stringify(out.refused)}`);
    const file = join(dir, "limits.xml");
    writeFileSync(file, out.xml);
    expect(out.xml).toContain("<vcpu placement='static'>4096</vcpu>");
    expect(out.xml).toContain(`<memory unit='KiB'>${2 ** 42}</memory>`);
    expect(run(["xmllint", "--noout", file])).toEqual({ code: 0, out: "" });
    const valid = run(["virt-xml-validate", file, "domain"]);
    expect(valid.out).toContain("validates");
    expect(valid.code).toBe(0);
  });

  test("xmllint and the unit tier's checker both refuse broken documents (the checks can fail)", () => {
    const base = written[0]!.xml;
    const broken = [
      base.replace("</name>", "\u0001</name>"),
      base.replace("<domain type=", "<domain x='<' type="),
      base.replace("</name>", "&bogus;</name>"),
      base.replace("<bunvirt:vmi xmlns:bunvirt=", "<bunvirt:vmi xmlns:other="),
    ];
    broken.forEach((xml, i) => {
      const file = join(dir, `broken-${i}.xml`);
      writeFileSync(file, xml);
      // xmllint exits 0 on a namespace error but reports it, as it would for the good files above (which must report nothing).
      const lint = run(["xmllint", "--noout", file]);
      expect(lint.code !== 0 || lint.out !== "", `xmllint on broken-${i}`).toBe(true);
      expect(() => parseXml(xml), `checker on broken-${i}`).toThrow(/not XML/);
    });
  });
});
