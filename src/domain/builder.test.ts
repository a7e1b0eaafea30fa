import { describe, expect, test } from "bun:test";
import { corpus } from "../../tests/fixtures/domain-corpus.ts";
import { domainXml } from "./builder.ts";

const golden = new URL("../../tests/fixtures/domain/seed.xml", import.meta.url).pathname;

describe("domain builder", () => {
  test("the seed manifest's domain matches the golden fixture", async () => {
    const seed = corpus.find((c) => c.name === "seed")!;
    const xml = domainXml(seed.vmi, seed.spec, seed.facts);
    if (process.env.UPDATE_GOLDEN === "1") await Bun.write(golden, xml);
    expect(xml).toBe(await Bun.file(golden).text());
  });

  test("emulation decides the domain type", () => {
    const seed = corpus.find((c) => c.name === "seed")!;
    expect(domainXml(seed.vmi, seed.spec, { ...seed.facts, emulation: true })).toStartWith("<domain type='qemu'>");
    expect(domainXml(seed.vmi, seed.spec, { ...seed.facts, emulation: false })).toStartWith("<domain type='kvm'>");
  });

  for (const c of corpus) {
    test(`corpus "${c.name}" renders with what libvirt must keep`, () => {
      const xml = domainXml(c.vmi, c.spec, c.facts);
      expect(xml).toContain(`<memory unit='KiB'>${c.expect.memoryKiB}</memory>`);
      expect(xml).toContain(`<vcpu placement='static'>${c.expect.vcpus}</vcpu>`);
      const targets = [...xml.matchAll(/<target dev='([a-z]+)' bus='([a-z]+)'\/>/g)].map((m) => [m[1], m[2]]);
      expect(targets).toEqual(c.expect.disks);
      for (const mac of c.expect.macs) expect(xml).toContain(`<mac address='${mac}'/>`);
    });
  }

  test("converting a VMI takes well under a millisecond (sanity; figures live in bench/domain-xml.ts)", () => {
    const seed = corpus.find((c) => c.name === "seed")!;
    // Not a timing assertion: the builder must merely be callable repeatedly without state.
    const a = domainXml(seed.vmi, seed.spec, seed.facts);
    const b = domainXml(seed.vmi, seed.spec, seed.facts);
    expect(a).toBe(b);
  });
});
