import { describe, expect, test } from "bun:test";
import type { BindingContext } from "./binding.ts";
import type { Interface, Network } from "./spec.ts";
import { bindingOf, contextProblems, interfaceNameProblem, nicProblems, normalizeMac, specProblems } from "./validate.ts";

const pod: Network = { name: "default", pod: {} };
const masq: Interface = { name: "default", masquerade: {} };
const ctx: BindingContext = { podInterface: "eth0", tap: "tap0", stateDir: "/run/x" };

describe("nicProblems", () => {
  test("a sound masquerade interface has none", () => {
    expect(nicProblems({ ...masq, macAddress: "02-00-00-00-00-01", ports: [{ port: 80 }, { port: 80, protocol: "UDP" }] }, pod, "masquerade")).toEqual([]);
  });

  test.each<[string, Interface, Network | undefined, "masquerade" | "bridge", RegExp]>([
    ["missing network", masq, undefined, "masquerade", /interface "default" has no network of the same name/],
    ["network without source", masq, { name: "default" }, "masquerade", /network "default" has no source/],
    ["wrong binding", masq, pod, "bridge", /must set exactly the bridge binding; it sets masquerade/],
    ["two bindings", { ...masq, bridge: {} }, pod, "masquerade", /it sets masquerade and bridge/],
    ["no binding", { name: "default" }, pod, "masquerade", /it sets none/],
    ["bad MAC", { ...masq, macAddress: "zz:00:00:00:00:01" }, pod, "masquerade", /"zz:00:00:00:00:01" is not a MAC address/],
    ["multicast MAC", { ...masq, macAddress: "03:00:00:00:00:01" }, pod, "masquerade", /multicast/],
    ["port 0", { ...masq, ports: [{ port: 0 }] }, pod, "masquerade", /ports\[0\]\.port "0" is not in 1\.\.65535/],
    ["port 65536", { ...masq, ports: [{ port: 65536 }] }, pod, "masquerade", /"65536" is not in 1\.\.65535/],
    ["port 1.5", { ...masq, ports: [{ port: 1.5 }] }, pod, "masquerade", /"1\.5" is not in/],
    ["SCTP", { ...masq, ports: [{ port: 1, protocol: "SCTP" as "TCP" }] }, pod, "masquerade", /protocol "SCTP" is not "TCP" or "UDP"/],
    ["duplicate port", { ...masq, ports: [{ port: 22 }, { port: 22, protocol: "TCP" }] }, pod, "masquerade", /port TCP\/22 is declared more than once/],
    ["ports on bridge", { name: "default", bridge: {}, ports: [{ port: 22 }] }, pod, "bridge", /ports may only be declared on a masquerade interface/],
    ["bad vmNetworkCIDR", masq, { name: "default", pod: { vmNetworkCIDR: "10.0.2.0/33" } }, "masquerade", /vmNetworkCIDR "10\.0\.2\.0\/33" is not an IPv4 CIDR/],
    ["bad vmIPv6NetworkCIDR", masq, { name: "default", pod: { vmIPv6NetworkCIDR: "fd10::1/120" } }, "masquerade", /vmIPv6NetworkCIDR "fd10::1\/120" has host bits set/],
  ])("%s", (_what, nic, network, kind, want) => {
    expect(nicProblems(nic, network, kind).join("; ")).toMatch(want);
  });
});

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

describe("specProblems", () => {
  test("one interface on the pod network is fine", () => {
    expect(specProblems([masq], [pod])).toEqual([]);
  });
  test("two interfaces on the pod network, a missing network, duplicates", () => {
    expect(specProblems([masq, { name: "b", bridge: {} }], [pod, { name: "b", pod: {} }])).toEqual([
      'interfaces "default" and "b" are both on the pod network; at most one interface may use it',
    ]);
    expect(specProblems([masq], [])).toEqual(['interface "default" has no network of the same name']);
    expect(specProblems([masq, masq], [pod, pod])).toContain('interface name "default" is used more than once');
    expect(specProblems([masq, masq], [pod, pod])).toContain('network name "default" is used more than once');
  });
});

test("normalizeMac and bindingOf", () => {
  expect(normalizeMac("02-AB-00-00-00-01")).toBe("02:ab:00:00:00:01");
  expect(normalizeMac("02:AB:00-00:00:01")).toBeNull();
  expect(bindingOf(masq)).toBe("masquerade");
  expect(bindingOf({ name: "x", bridge: {} })).toBe("bridge");
  expect(bindingOf({ name: "x" })).toBeNull();
  expect(bindingOf({ name: "x", bridge: {}, masquerade: {} })).toBeNull();
});
