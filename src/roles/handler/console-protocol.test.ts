import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import {
  certificateSha256,
  consoleMaxLineBytes,
  encodeConsoleLine,
  formatConsoleAnnotation,
  normalizeFingerprint,
  parseConsoleAnnotation,
  parseConsoleReply,
  parseConsoleRequest,
  readConsoleLine,
  splitHostPort,
} from "./console-protocol.ts";

describe("console request", () => {
  test("a well-formed request parses", () => {
    expect(parseConsoleRequest('{"namespace":"ns1","name":"vm.a-1","uid":"0a1b-2c"}')).toEqual({ namespace: "ns1", name: "vm.a-1", uid: "0a1b-2c" });
  });
  test.each([
    ["not json", "not JSON"],
    ["[1]", "not a JSON object"],
    ['{"namespace":"ns","name":"a","uid":"1","x":1}', 'unknown field "x"'],
    ['{"namespace":1,"name":"a","uid":"1"}', 'field "namespace" must be a string'],
    ['{"namespace":"../etc","name":"a","uid":"1"}', 'field "namespace" must be a DNS label'],
    ['{"namespace":"ns","name":"a/b","uid":"1"}', 'field "name" must be a DNS subdomain'],
    ['{"namespace":"ns","name":"a","uid":"../x"}', 'field "uid" must be a UID'],
  ])("refused %s", (line, rule) => {
    expect(() => parseConsoleRequest(line)).toThrow(rule);
  });
});

describe("console reply", () => {
  test("ok and errors parse", () => {
    expect(parseConsoleReply('{"ok":true}')).toEqual({ ok: true });
    expect(parseConsoleReply('{"ok":false,"code":409,"message":"Console connection already in use"}')).toEqual({
      ok: false,
      code: 409,
      message: "Console connection already in use",
    });
  });
  test("a code outside 404/409/500 is refused", () => {
    expect(() => parseConsoleReply('{"ok":false,"code":200,"message":"x"}')).toThrow('field "code" must be 404, 409 or 500');
    expect(() => parseConsoleReply('{"ok":"yes"}')).toThrow('field "ok" must be true or false');
  });
});

describe("annotation", () => {
  const sha = "a".repeat(64);
  test("round trip", () => {
    const v = { address: "10.0.0.5:8187", sha256: sha };
    expect(parseConsoleAnnotation(formatConsoleAnnotation(v))).toEqual(v);
    expect(parseConsoleAnnotation(JSON.stringify({ address: "[fd00::1]:8187", sha256: sha })).address).toBe("[fd00::1]:8187");
  });
  test("bad address or digest refused", () => {
    expect(() => parseConsoleAnnotation(JSON.stringify({ address: "10.0.0.5", sha256: sha }))).toThrow('field "address"');
    expect(() => parseConsoleAnnotation(JSON.stringify({ address: "10.0.0.5:70000", sha256: sha }))).toThrow('field "address"');
    expect(() => parseConsoleAnnotation(JSON.stringify({ address: "10.0.0.5:1", sha256: "AB:CD" }))).toThrow('field "sha256"');
  });
  test("host and port", () => {
    expect(splitHostPort("[::1]:5")).toEqual({ host: "::1", port: 5 });
    expect(splitHostPort("h:0")).toBeNull();
  });
  test("fingerprint forms agree", () => {
    const der = new Uint8Array([1, 2, 3]);
    const hex = certificateSha256(der);
    const colons = hex.toUpperCase().match(/../g)!.join(":");
    expect(normalizeFingerprint(colons)).toBe(hex);
  });
});

describe("line reader", () => {
  test("a line split over chunks, with the bytes after it kept", async () => {
    const s = new PassThrough();
    const p = readConsoleLine(s);
    s.write('{"ok":');
    s.write('true}\nserial');
    const got = await p;
    expect(got.line).toBe('{"ok":true}');
    expect(got.rest.toString()).toBe("serial");
  });
  test("a line over the cap is refused before its end arrives", async () => {
    const s = new PassThrough();
    const p = readConsoleLine(s);
    s.write(Buffer.alloc(consoleMaxLineBytes, 0x61));
    await expect(p).rejects.toThrow(`longer than ${consoleMaxLineBytes} bytes`);
  });
  test("exactly the cap with its newline is accepted", async () => {
    const s = new PassThrough();
    const p = readConsoleLine(s);
    s.write(Buffer.concat([Buffer.alloc(consoleMaxLineBytes - 1, 0x61), Buffer.from("\n")]));
    expect((await p).line.length).toBe(consoleMaxLineBytes - 1);
  });
  test("end before the newline, and the timeout", async () => {
    const s = new PassThrough();
    const p = readConsoleLine(s);
    s.end("abc");
    await expect(p).rejects.toThrow("ended before the end of the line");
    await expect(readConsoleLine(new PassThrough(), { timeoutMs: 20 })).rejects.toThrow("none within 20 ms");
  });
  test("encode refuses a line over the cap", () => {
    expect(encodeConsoleLine({ ok: true }).toString()).toBe('{"ok":true}\n');
    expect(() => encodeConsoleLine({ ok: false, code: 500, message: "x".repeat(consoleMaxLineBytes) })).toThrow("more than 4096");
  });
});
