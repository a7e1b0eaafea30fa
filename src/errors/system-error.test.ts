import { expect, test } from "bun:test";
import { describeSystemError } from "./system-error.ts";

test("errno codes in words", () => {
  expect(describeSystemError(Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), { code: "ENOENT" }))).toBe("no such file or directory");
  expect(describeSystemError(Object.assign(new TypeError("ECONNREFUSED: Unable to connect. Is the computer able to access the url?"), { code: "ECONNREFUSED" }))).toBe("connection refused");
  expect(describeSystemError(Object.assign(new TypeError("getaddrinfo ENOTFOUND reg.invalid"), { code: "ENOTFOUND" }))).toBe('no such host ("reg.invalid")');
});

test("Bun's advice never reaches the user", () => {
  const e = new Error("The socket connection was closed unexpectedly. For more information, pass `verbose: true` in the second argument to fetch()");
  const out = describeSystemError(e);
  expect(out).toBe("The socket connection was closed unexpectedly.");
  expect(out).not.toMatch(/verbose/);
  expect(describeSystemError(new Error("Unable to connect. Is the computer able to access the url?"))).toBe("Unable to connect.");
});

test("a real refused connection, as Bun's fetch reports it", async () => {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  const error = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
  expect(describeSystemError(error)).toBe("connection refused");
});
