/**
 * Parser for the `WWW-Authenticate` header (RFC 7235): one or more
 * challenges, each a scheme followed by either a token68 or auth-params
 * (`key=token` or `key="quoted \"string\""`), separated by commas.
 */

export interface AuthChallenge {
  /** Lower-cased scheme: "bearer", "basic", ... */
  readonly scheme: string;
  /** Parameters with lower-cased keys (realm, service, scope, error, ...). */
  readonly params: Readonly<Record<string, string>>;
  readonly token68?: string;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const TOKEN68_RE = /^[A-Za-z0-9\-._~+/]+=*/;

export class InvalidChallengeError extends Error {
  constructor(header: string, reason: string) {
    super(`Cannot parse WWW-Authenticate "${header}": ${reason}`);
    this.name = "InvalidChallengeError";
  }
}

export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const s = header;
  let i = 0;
  const challenges: AuthChallenge[] = [];
  const fail = (reason: string): never => {
    throw new InvalidChallengeError(header, `${reason} at offset ${i}`);
  };
  const skipWs = (): void => {
    while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  };
  const skipWsAndCommas = (): void => {
    while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === ",")) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TOKEN_CHAR.test(s[i] as string)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    // s[i] === '"'
    i++;
    let out = "";
    for (;;) {
      if (i >= s.length) fail("unterminated quoted string");
      const c = s[i] as string;
      if (c === "\\") {
        if (i + 1 >= s.length) fail("dangling escape");
        out += s[i + 1];
        i += 2;
      } else if (c === '"') {
        i++;
        return out;
      } else {
        out += c;
        i++;
      }
    }
  };
  /** Looks ahead: is there `token BWS "="` (and not a token68 ending in "=") at i? */
  const paramAhead = (): boolean => {
    let j = i;
    while (j < s.length && TOKEN_CHAR.test(s[j] as string)) j++;
    if (j === i) return false;
    while (j < s.length && (s[j] === " " || s[j] === "\t")) j++;
    if (s[j] !== "=") return false;
    j++;
    while (j < s.length && (s[j] === " " || s[j] === "\t")) j++;
    // "key=" followed by end, comma or more "=" is a token68 with padding.
    return j < s.length && (s[j] === '"' || TOKEN_CHAR.test(s[j] as string));
  };

  skipWsAndCommas();
  while (i < s.length) {
    const scheme = readToken();
    if (scheme === "") fail(`expected an auth scheme, found "${s[i]}"`);
    const params: Record<string, string> = {};
    let token68: string | undefined;
    skipWs();
    if (i < s.length && s[i] !== "," && !paramAhead()) {
      const m = TOKEN68_RE.exec(s.slice(i));
      if (m === null) fail("expected a token68 or auth-params");
      token68 = (m as RegExpExecArray)[0];
      i += token68.length;
      skipWs();
      if (i < s.length && s[i] !== ",") fail("unexpected text after token68");
    } else {
      for (;;) {
        skipWs();
        if (!paramAhead()) break;
        const key = readToken().toLowerCase();
        skipWs();
        i++; // "="
        skipWs();
        const value = s[i] === '"' ? readQuoted() : readToken();
        if (key in params) fail(`parameter "${key}" given twice`);
        params[key] = value;
        skipWs();
        if (i >= s.length) break;
        if (s[i] !== ",") fail(`expected "," after parameter "${key}"`);
        // A comma ends this parameter; the next item is either another
        // parameter of this challenge or the scheme of the next challenge.
        while (i < s.length && (s[i] === "," || s[i] === " " || s[i] === "\t")) i++;
        if (!paramAhead()) break;
      }
    }
    challenges.push(token68 === undefined ? { scheme: scheme.toLowerCase(), params } : { scheme: scheme.toLowerCase(), params, token68 });
    skipWsAndCommas();
  }
  return challenges;
}
