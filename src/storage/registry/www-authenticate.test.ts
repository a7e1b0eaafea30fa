import { describe, expect, test } from "bun:test";
import { InvalidChallengeError, parseWwwAuthenticate } from "./www-authenticate.ts";

describe("parseWwwAuthenticate", () => {
  test("docker hub bearer challenge", () => {
    expect(
      parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"'),
    ).toEqual([
      {
        scheme: "bearer",
        params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:samalba/my-app:pull,push" },
      },
    ]);
  });

  test("basic challenge, case-insensitive scheme and keys, spaces", () => {
    expect(parseWwwAuthenticate('BASIC   Realm = "basic-realm" , charset="UTF-8"')).toEqual([
      { scheme: "basic", params: { realm: "basic-realm", charset: "UTF-8" } },
    ]);
  });

  test("several challenges in one header", () => {
    const parsed = parseWwwAuthenticate('Basic realm="a", Bearer realm="https://t/token", service=reg, Negotiate, NTLM abc123==');
    expect(parsed.map((c) => c.scheme)).toEqual(["basic", "bearer", "negotiate", "ntlm"]);
    expect(parsed[1]?.params).toEqual({ realm: "https://t/token", service: "reg" });
    expect(parsed[3]?.token68).toBe("abc123==");
  });

  test("escaped quotes and error params", () => {
    const [c] = parseWwwAuthenticate('Bearer realm="r\\"x\\\\",error="insufficient_scope",scope=""');
    expect(c?.params).toEqual({ realm: 'r"x\\', error: "insufficient_scope", scope: "" });
  });

  test("bare scheme", () => {
    expect(parseWwwAuthenticate("Bearer")).toEqual([{ scheme: "bearer", params: {} }]);
  });

  test("errors", () => {
    expect(() => parseWwwAuthenticate('Bearer realm="open')).toThrow(InvalidChallengeError);
    expect(() => parseWwwAuthenticate('Bearer realm="a" service="b"')).toThrow(/expected ","/);
    expect(() => parseWwwAuthenticate('Bearer realm="a", realm="b"')).toThrow(/given twice/);
    expect(() => parseWwwAuthenticate("=oops")).toThrow(/expected an auth scheme/);
  });
});
