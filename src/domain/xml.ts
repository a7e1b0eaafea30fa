/** A minimal XML tree and its serialisation, enough for libvirt domain documents. */

export interface XmlNode {
  name: string;
  attrs: Record<string, string | number | undefined>;
  children: (XmlNode | string)[];
}

type Child = XmlNode | string | number | null | undefined | false | Child[];

/** Builds an element; undefined attributes and null/false children are left out. */
export function el(name: string, attrs: XmlNode["attrs"] = {}, ...children: Child[]): XmlNode {
  const flat: (XmlNode | string)[] = [];
  const add = (c: Child): void => {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach(add);
    else flat.push(typeof c === "number" ? String(c) : c);
  };
  children.forEach(add);
  return { name, attrs, children: flat };
}

const escapeText = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const escapeAttr = (s: string): string => escapeText(s).replace(/"/g, "&quot;").replace(/'/g, "&apos;");

export function renderXml(node: XmlNode, indent = ""): string {
  const attrs = Object.entries(node.attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}='${escapeAttr(String(v))}'`)
    .join("");
  if (node.children.length === 0) return `${indent}<${node.name}${attrs}/>`;
  if (node.children.every((c) => typeof c === "string")) {
    return `${indent}<${node.name}${attrs}>${node.children.map((c) => escapeText(c as string)).join("")}</${node.name}>`;
  }
  const inner = node.children.map((c) => (typeof c === "string" ? indent + "  " + escapeText(c) : renderXml(c, indent + "  ")));
  return `${indent}<${node.name}${attrs}>\n${inner.join("\n")}\n${indent}</${node.name}>`;
}
