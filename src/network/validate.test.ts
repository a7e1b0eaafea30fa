import { describe, expect, test } from "bun:test";
import type { BindingContext } from "./binding.ts";
import type { Interface } from "./spec.ts";
import { bindingOf, contextProblems, interfaceNameProblem } from "./validate.ts";

const masq: Interface = { name: "default", masquerade: {} };
const ctx: BindingContext = { podInterface: "eth0", tap: "tap0", stateDir: "/run/x" };

describe("contextProblems", () => {
  test("a sound context has none", () => {
    expect(contextProblems(ctx)).toEqual([]);
  });
  test("names, owner and MAC are checked", () => {
    expect(contextProblems({ ...ctx, tap: "" })).toEqual(['tap "" must be 1 to 15 characters long']);
    expect(contextProblems({ ...ctx, tap: "a/b" })).toEqual(['tap "a/b" must not contain "/", ":" or white space']);
    expect(contextProblems({ ...ctx, podInterface: "eth0123456789" })).toEqual(['bridge "k6t-eth0123456789" must be 1 to 15 characters long']);
    expect(contextProblems({ ...ctx, tap: "eth0" })).toEqual(['tap "eth0" must not be the pod interface or the bridge']);
    expect(contextProblems({ ...ctx, tapOwner: -1 })).toEqual(['tapOwner "-1" is not a uid']);
    expect(contextProblems({ ...ctx, defaultMac: "nope" })).toEqual(['defaultMac "nope" is not a MAC address']);
    expect(contextProblems({ ...ctx, stateDir: "" })).toEqual(["stateDir must not be empty"]);
  });
  test("interface names", () => {
    expect(interfaceNameProblem("x", "tap0")).toBeNull();
    expect(interfaceNameProblem("x", "..")).not.toBeNull();
    expect(interfaceNameProblem("x", "a b")).not.toBeNull();
  });
});

test("bindingOf", () => {
  expect(bindingOf(masq)).toBe("masquerade");
  expect(bindingOf({ name: "x", bridge: {} })).toBe("bridge");
  expect(bindingOf({ name: "x" })).toBeNull();
  expect(bindingOf({ name: "x", bridge: {}, masquerade: {} })).toBeNull();
});
