import { describe, expect, test } from "bun:test";
import { el, renderXml } from "./xml.ts";

describe("renderXml", () => {
  test("renders nested elements, escapes text and attributes, drops empties", () => {
    const x = el("a", { k: "it's <x>", gone: undefined }, el("b", {}, "1 & 2"), null, false, [el("c")], 3);
    expect(renderXml(x)).toBe("<a k='it&apos;s &lt;x&gt;'>\n  <b>1 &amp; 2</b>\n  <c/>\n  3\n</a>");
  });

  test("keeps whitespace a parser would normalise: tab, LF, CR in attributes, CR in text", () => {
    expect(renderXml(el("a", { k: "x\ty\nz\r\"" }, "l1\r\nl2\t]]>"))).toBe("<a k='x&#9;y&#10;z&#13;&quot;'>l1&#13;\nl2\t]]&gt;</a>");
  });

  test("writes characters beyond ASCII as they are", () => {
    expect(renderXml(el("a", { k: "é😀" }, "ü"))).toBe("<a k='é😀'>ü</a>");
  });

  for (const [name, s] of [["NUL", "a\u0000"], ["ESC", "\u001b[0m"], ["U+FFFF", "\uffff"], ["a lone surrogate", "x\ud800y"]] as const) {
    test(`refuses ${name} in text and in attributes`, () => {
      expect(() => renderXml(el("cmdline", {}, s))).toThrow(/Cannot write XML: the text of <cmdline> contains U\+/);
      expect(() => renderXml(el("serial", { path: s }))).toThrow(/Cannot write XML: attribute path of <serial> contains U\+/);
    });
  }

  test("writes numbers as whole decimals and refuses what would need exponent notation or a fraction", () => {
    expect(renderXml(el("memory", { unit: "KiB" }, 2 ** 42))).toBe("<memory unit='KiB'>4398046511104</memory>");
    expect(() => el("memory", {}, 1e30)).toThrow(/Cannot write XML: the text of <memory> is 1e\+30, not a whole number/);
    expect(() => renderXml(el("boot", { order: 0.5 }))).toThrow(/attribute order of <boot> is 0.5/);
    expect(() => renderXml(el("vcpu", {}, Number.NaN))).toThrow(/is NaN/);
  });
});
