import { expect, test } from "bun:test";
import { el, renderXml } from "./xml.ts";

test("renders nested elements, escapes text and attributes, drops empties", () => {
  const x = el("a", { k: "it's <x>", gone: undefined }, el("b", {}, "1 & 2"), null, false, [el("c")], 3);
  expect(renderXml(x)).toBe("<a k='it&apos;s &lt;x&gt;'>\n  <b>1 &amp; 2</b>\n  <c/>\n  3\n</a>");
});
