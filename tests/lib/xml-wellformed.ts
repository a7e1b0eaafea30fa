/**
 * A small, strict XML 1.0 well-formedness check (with namespaces), written
 * apart from src/domain/xml.ts so the writer is not judged by its own code.
 * It parses the whole document and returns the tree with text and attribute
 * values as a conforming parser reports them (line ends normalised,
 * references decoded, attribute whitespace normalised), or throws an Error
 * saying where the document stops being XML. No DTDs: a domain has none.
 */

export interface XNode {
  name: string;
  attrs: Record<string, string>;
  children: (XNode | string)[];
}

// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF] (pairs only).
const notChar = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const nameStart = "A-Z_a-z:\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}";
const nameChar = `${nameStart}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const nameAt = new RegExp(`[${nameStart}][${nameChar}]*`, "uy");
const predefined: Record<string, string> = { lt: "<", gt: ">", amp: "&", apos: "'", quot: '"' };

function isChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

export function parseXml(input: string): XNode {
  const bad = notChar.exec(input);
  if (bad !== null) throw new Error(`not XML: character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase()} at offset ${bad.index} is not an XML Char`);
  // Line-end handling (XML 1.0 §2.11): CRLF and lone CR become LF before parsing.
  const s = input.replace(/\r\n?/g, "\n");
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`not XML: ${what} at offset ${i} (near ${JSON.stringify(s.slice(Math.max(0, i - 20), i + 20))})`);
  };
  const name = (): string => {
    nameAt.lastIndex = i;
    const m = nameAt.exec(s);
    if (m === null) return fail("a name expected");
    i += m[0].length;
    return m[0];
  };
  const spaces = (): boolean => {
    const start = i;
    while (i < s.length && " \t\n".includes(s[i]!)) i++;
    return i > start;
  };
  const reference = (): string => {
    // at '&'
    const end = s.indexOf(";", i);
    if (end < 0) return fail("an unterminated reference");
    const body = s.slice(i + 1, end);
    let out: string;
    if (/^#[0-9]+$/.test(body) || /^#x[0-9A-Fa-f]+$/.test(body)) {
      const cp = body[1] === "x" ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      if (!isChar(cp)) return fail(`character reference &${body}; to a non-Char`);
      out = String.fromCodePoint(cp);
    } else if (body in predefined) {
      out = predefined[body]!;
    } else {
      return fail(`reference &${body}; to an undeclared entity`);
    }
    i = end + 1;
    return out;
  };
  const skipMisc = (): void => {
    for (;;) {
      spaces();
      if (s.startsWith("<!--", i)) {
        const end = s.indexOf("-->", i + 4);
        if (end < 0) fail("an unterminated comment");
        if (s.slice(i + 4, end).includes("--")) fail('"--" inside a comment');
        i = end + 3;
      } else if (s.startsWith("<?", i)) {
        const end = s.indexOf("?>", i);
        if (end < 0) fail("an unterminated processing instruction");
        i = end + 2;
      } else return;
    }
  };
  const element = (scope: Set<string>): XNode => {
    if (s[i] !== "<") fail('"<" expected');
    i++;
    const tag = name();
    const attrs: Record<string, string> = {};
    for (;;) {
      const sp = spaces();
      if (s.startsWith("/>", i) || s[i] === ">") break;
      if (!sp) fail("whitespace expected before an attribute");
      const key = name();
      if (key in attrs) fail(`attribute "${key}" given twice`);
      spaces();
      if (s[i] !== "=") fail('"=" expected');
      i++;
      spaces();
      const quote = s[i];
      if (quote !== "'" && quote !== '"') return fail("a quoted attribute value expected");
      i++;
      let value = "";
      for (;;) {
        const c = s[i];
        if (c === undefined) return fail("an unterminated attribute value");
        if (c === quote) break;
        if (c === "<") fail('"<" inside an attribute value');
        if (c === "&") value += reference();
        else {
          // Attribute-value normalisation (§3.3.3): literal whitespace becomes a space.
          value += c === "\t" || c === "\n" ? " " : c;
          i++;
        }
      }
      i++;
      attrs[key] = value;
    }
    const inScope = new Set(scope);
    for (const k of Object.keys(attrs)) if (k.startsWith("xmlns:")) inScope.add(k.slice(6));
    const checkPrefix = (n: string): void => {
      const parts = n.split(":");
      if (parts.length > 2 || parts.some((p) => p === "")) fail(`"${n}" is not a namespace-well-formed name`);
      if (parts.length === 2 && parts[0] !== "xmlns" && parts[0] !== "xml" && !inScope.has(parts[0]!)) fail(`namespace prefix "${parts[0]}" of "${n}" is not declared`);
    };
    checkPrefix(tag);
    Object.keys(attrs).forEach(checkPrefix);
    const node: XNode = { name: tag, attrs, children: [] };
    if (s.startsWith("/>", i)) {
      i += 2;
      return node;
    }
    i++; // '>'
    let text = "";
    const flush = (): void => {
      if (text !== "") node.children.push(text);
      text = "";
    };
    for (;;) {
      if (i >= s.length) fail(`<${tag}> is not closed`);
      if (s.startsWith("</", i)) {
        i += 2;
        const closing = name();
        if (closing !== tag) fail(`</${closing}> closes <${tag}>`);
        spaces();
        if (s[i] !== ">") fail('">" expected');
        i++;
        flush();
        return node;
      }
      if (s.startsWith("<!--", i) || s.startsWith("<?", i)) {
        flush();
        skipMisc();
        continue;
      }
      if (s.startsWith("<![CDATA[", i)) {
        const end = s.indexOf("]]>", i);
        if (end < 0) fail("an unterminated CDATA section");
        text += s.slice(i + 9, end);
        i = end + 3;
        continue;
      }
      if (s[i] === "<") {
        flush();
        node.children.push(element(inScope));
        continue;
      }
      if (s.startsWith("]]>", i)) fail('"]]>" in character data');
      if (s[i] === "&") text += reference();
      else text += s[i++];
    }
  };
  if (s.startsWith("<?xml", i)) {
    const end = s.indexOf("?>", i);
    if (end < 0) fail("an unterminated XML declaration");
    i = end + 2;
  }
  skipMisc();
  const root = element(new Set());
  skipMisc();
  if (i < s.length) fail("content after the root element");
  return root;
}

/** Children elements of a node with a given name. */
export const childrenNamed = (n: XNode, name: string): XNode[] => n.children.filter((c): c is XNode => typeof c !== "string" && c.name === name);

/** The node's text content (its string children joined). */
export const textOf = (n: XNode): string => n.children.filter((c): c is string => typeof c === "string").join("");
