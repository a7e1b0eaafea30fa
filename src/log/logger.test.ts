import { expect, test } from "bun:test";
import { logAbout, makeLogger, objectOf, objectOfKey, parseLogFormat, parseLogLevel, type LoggerOptions } from "./logger.ts";

const at = new Date("2026-12-02T13:00:00.000Z");
function capture(opts: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const log = makeLogger({ role: "handler", write: (l) => lines.push(l), now: () => at, ...opts });
  return { log, lines };
}

test("JSON: one object per line with time, level, role, message and the object", () => {
  const { log, lines } = capture({ format: "json" });
  log("syncing", objectOf("VirtualMachineInstance", { namespace: "ns1", name: "vm1", uid: "u-1" }));
  log.warn('with "quotes"\nand a newline');
  log.error("boom", { kind: "Node", name: "n1" });
  expect(lines).toHaveLength(3);
  expect(lines.every((l) => !l.includes("\n"))).toBe(true);
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(parsed[0]).toEqual({ time: at.toISOString(), level: "info", role: "handler", message: "syncing", kind: "VirtualMachineInstance", namespace: "ns1", name: "vm1", uid: "u-1" });
  expect(parsed[1]).toEqual({ time: at.toISOString(), level: "warn", role: "handler", message: 'with "quotes"\nand a newline' });
  expect(parsed[2]).toMatchObject({ level: "error", kind: "Node", name: "n1" });
  expect(parsed[2]!.namespace).toBeUndefined();
});

test("text is the default: time, role, the level when it is not info, message", () => {
  const { log, lines } = capture();
  log("up");
  log.warn("slow");
  expect(lines).toEqual([`${at.toISOString()} handler: up`, `${at.toISOString()} handler: warn: slow`]);
  const bare = capture({ stampText: false });
  bare.log.error("bare");
  expect(bare.lines).toEqual(["bare"]);
});

test("the level drops what is below it", () => {
  const { log, lines } = capture({ format: "json", level: "warn" });
  log.debug("d");
  log("i");
  log.info("i2");
  log.warn("w");
  log.error("e");
  expect(lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(["w", "e"]);
  const all = capture({ level: "debug" });
  all.log.debug("d");
  expect(all.lines).toHaveLength(1);
});

test("about: later lines without an object concern that object (a launcher's one VMI)", () => {
  const { log, lines } = capture({ format: "json" });
  log("before");
  logAbout(log, { kind: "VirtualMachineInstance", namespace: "a", name: "b", uid: "c" });
  log("after");
  log("other", { kind: "Node", name: "n" });
  logAbout(() => undefined, { name: "ignored by a plain sink" });
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(parsed[0]!.name).toBeUndefined();
  expect(parsed[1]).toMatchObject({ namespace: "a", name: "b", uid: "c" });
  expect(parsed[2]).toMatchObject({ kind: "Node", name: "n" });
});

test("flags: defaults, values, and a refusal naming the choices", () => {
  expect([parseLogLevel(undefined), parseLogFormat(undefined)]).toEqual(["info", "text"]);
  expect([parseLogLevel("debug"), parseLogFormat("json")]).toEqual(["debug", "json"]);
  expect(() => parseLogLevel("loud")).toThrow('Cannot use --log-level "loud": it must be one of debug, info, warn, error');
  expect(() => parseLogFormat("xml")).toThrow('Cannot use --log-format "xml": it must be one of text, json');
});

test("objects from metadata and cache keys", () => {
  expect(objectOfKey("VirtualMachine", "ns/vm")).toEqual({ kind: "VirtualMachine", namespace: "ns", name: "vm" });
  expect(objectOfKey("Node", "n1")).toEqual({ kind: "Node", name: "n1" });
  expect(objectOf("Pod", { name: "p" })).toEqual({ kind: "Pod", name: "p" });
});
