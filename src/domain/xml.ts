/** A minimal XML tree and its serialisation, enough for libvirt domain documents. */
import { firstNonXmlChar } from "../api/admission/xml-chars.ts";

export interface XmlNode {
  name: string;
  attrs: Record<string, string | number | undefined>;
  children: (XmlNode | string)[];
}

type Child = XmlNode | string | number | null | undefined | false | Child[];

/** Numbers are written as whole decimal numbers, never as "1e+21" or "0.5". */
function numberText(n: number, where: string): string {
  if (!Number.isSafeInteger(n)) throw new Error(`Cannot write XML: ${where} is ${n}, not a whole number that can be written exactly`);
  return String(n);
}

/** Builds an element; undefined attributes and null/false children are left out. */
export function el(name: string, attrs: XmlNode["attrs"] = {}, ...children: Child[]): XmlNode {
  const flat: (XmlNode | string)[] = [];
  const add = (c: Child): void => {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach(add);
    else flat.push(typeof c === "number" ? numberText(c, `the text of <${name}>`) : c);
  };
  children.forEach(add);
  return { name, attrs, children: flat };
}

function checked(s: string, where: string): string {
  const hit = firstNonXmlChar(s);
  if (hit !== null) throw new Error(`Cannot write XML: ${where} contains ${hit.code}, which XML cannot carry`);
  return s;
}

const textEscapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;" };
const attrEscapes: Record<string, string> = { ...textEscapes, '"': "&quot;", "'": "&apos;", "\t": "&#9;", "\n": "&#10;" };

/** Text content: markup escaped, CR kept as a reference (a parser would turn a raw CR into LF). */
export const escapeText = (s: string, where = "text"): string => checked(s, where).replace(/[&<>\r]/g, (c) => textEscapes[c]!);

/** An attribute value: markup and both quotes escaped, tab/LF/CR as references (a parser would turn raw ones into spaces). */
export const escapeAttr = (s: string, where = "an attribute"): string => checked(s, where).replace(/[&<>"'\t\n\r]/g, (c) => attrEscapes[c]!);

export function renderXml(node: XmlNode, indent = ""): string {
  const attrs = Object.entries(node.attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const where = `attribute ${k} of <${node.name}>`;
      return ` ${k}='${escapeAttr(typeof v === "number" ? numberText(v, where) : String(v), where)}'`;
    })
    .join("");
  const where = `the text of <${node.name}>`;
  if (node.children.length === 0) return `${indent}<${node.name}${attrs}/>`;
  if (node.children.every((c) => typeof c === "string")) {
    return `${indent}<${node.name}${attrs}>${node.children.map((c) => escapeText(c as string, where)).join("")}</${node.name}>`;
  }
  const inner = node.children.map((c) => (typeof c === "string" ? indent + "  " + escapeText(c, where) : renderXml(c, indent + "  ")));
  return `${indent}<${node.name}${attrs}>\n${inner.join("\n")}\n${indent}</${node.name}>`;
}
