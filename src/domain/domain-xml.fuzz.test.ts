/**
 * Hostile manifests through validate → domain XML: each is either refused
 * with problems naming a field, or becomes a well-formed document (checked
 * by a strict XML parser written apart from the writer) that carries the
 * user's text unchanged and writes every number as a whole decimal.
 * tests/host/domain-fuzz.test.ts puts a sample through xmllint and
 * libvirt's schema.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { hostileManifest, throughDomain } from "../../tests/lib/hostile-manifests.ts";
import { childrenNamed, parseXml, textOf, type XNode } from "../../tests/lib/xml-wellformed.ts";
import { domainName } from "./index.ts";

const RUNS = 250;

const find = (n: XNode, path: string[]): XNode[] =>
  path.reduce<XNode[]>((nodes, step) => nodes.flatMap((x) => childrenNamed(x, step)), [n]);

function* everyValue(n: XNode): Generator<string> {
  yield* Object.values(n.attrs);
  for (const c of n.children) {
    if (typeof c === "string") yield c;
    else yield* everyValue(c);
  }
}

describe("hostile manifests through validate and the domain writer", () => {
  test("the XML checker refuses what is not XML (the property can fail)", () => {
    for (const broken of ["<a>", "<a x='<'/>", "<a>&x;</a>", "<a>\u0001</a>", "<a>\ud800</a>", "<b:a/>", "<a>]]></a>", "<a x='1' x='1'/>"]) {
      expect(() => parseXml(broken), broken).toThrow(/not XML/);
    }
    expect(parseXml("<a k='x&#10;y\tz'>l1&#13;\nl2&amp;</a>")).toEqual({ name: "a", attrs: { k: "x\ny z" }, children: ["l1\r\nl2&"] });
  });

  test("each is refused naming a field, or written as well-formed XML that keeps the user's text", () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(hostileManifest({ hostileNames: true }), fc.boolean(), (manifest, emulation) => {
        const out = throughDomain(manifest, emulation);
        if ("refused" in out) {
          refused++;
          expect(out.refused.length).toBeGreaterThan(0);
          for (const p of out.refused) {
            expect(p.path).toMatch(/^(metadata|spec|apiVersion)\b/);
            expect(p.rule.length).toBeGreaterThan(0);
          }
          return;
        }
        accepted++;
        const doc = parseXml(out.xml);
        expect(doc.name).toBe("domain");
        expect(textOf(find(doc, ["name"])[0]!)).toBe(domainName(out.identity.namespace, out.identity.name));
        const d = out.spec.domain;
        const model = d.cpu?.model;
        if (model !== undefined && model !== "host-model" && model !== "host-passthrough") {
          expect(textOf(find(doc, ["cpu", "model"])[0]!)).toBe(model);
        }
        const args = d.firmware?.kernelBoot?.kernelArgs;
        if (args !== undefined) expect(textOf(find(doc, ["os", "cmdline"])[0]!)).toBe(args);
        const serials = (d.devices.disks ?? []).flatMap((x) => (x.serial === undefined ? [] : [x.serial]));
        expect(find(doc, ["devices", "disk", "serial"]).map(textOf)).toEqual(serials);
        expect(find(doc, ["metadata", "bunvirt:vmi", "bunvirt:name"]).map(textOf)).toEqual([out.identity.name]);
        for (const v of everyValue(doc)) expect(v).not.toMatch(/^-?\d+(\.\d+)?e[+-]?\d+$/i);
        for (const n of [...find(doc, ["memory"]), ...find(doc, ["currentMemory"]), ...find(doc, ["vcpu"])]) expect(textOf(n)).toMatch(/^[1-9]\d*$/);
      }),
      { numRuns: RUNS, seed: 9 },
    );
    // Both outcomes must occur, or the property proves little.
    expect(accepted).toBeGreaterThan(RUNS / 20);
    expect(refused).toBeGreaterThan(RUNS / 20);
    console.log(`hostile manifests: ${accepted} written, ${refused} refused`);
  });
});
