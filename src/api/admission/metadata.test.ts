import { describe, expect, test } from "bun:test";
import { validate } from "../validate.ts";
import { checkMetadata } from "./metadata.ts";

const vmi = (metadata: Record<string, unknown>): unknown => ({
  apiVersion: "kubevirt.io/v1",
  kind: "VirtualMachineInstance",
  metadata,
  spec: { domain: { devices: {}, resources: { requests: { memory: "64M" } } } },
});

describe("metadata names (Kubernetes' rules)", () => {
  test("good names pass", () => {
    for (const name of ["a", "myvm", "vm-1", "vm.example.com", "a".repeat(253)]) {
      expect(checkMetadata({ name, namespace: "default" }, "metadata")).toEqual([]);
    }
    expect(checkMetadata({ generateName: "myvm-" }, "metadata")).toEqual([]);
  });

  const hostileNames = [
    "a/../../../../../some/dir", "../etc", "..", ".", "a/b", "/abs", "A", "vm_1", "-a", "a-", "a..b", ".a", "a.",
    "a\u0000b", "a\nb", "a b", "é", "a".repeat(254), "",
  ];
  for (const name of hostileNames) {
    test(`metadata.name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 20)}…` : name)} is refused by validate, naming the field and the rule`, () => {
      const r = validate(vmi({ name }));
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const hit = r.problems.find((p) => p.path === "metadata.name");
      expect(hit, JSON.stringify(r.problems)).toBeDefined();
      // Characters XML cannot carry are refused first and alone (the other rules would quote them).
      expect(hit!.rule).toMatch(name === "" ? /is required/ : /[\x00-\x08\x0b\x0c\x0e-\x1f]/.test(name) ? /XML cannot carry/ : /DNS-1123 subdomain/);
    });
  }

  test("a namespace must be a DNS-1123 label", () => {
    for (const namespace of ["a/b", "..", "a.b", "Default", "a".repeat(64), ""]) {
      const problems = checkMetadata({ name: "x", namespace }, "metadata");
      expect(problems).toEqual([{ path: "metadata.namespace", rule: expect.stringMatching(/DNS-1123 label/) as unknown as string }]);
    }
  });

  test("generateName is a prefix of such a name", () => {
    expect(checkMetadata({ generateName: "../x-" }, "metadata")[0]?.path).toBe("metadata.generateName");
    expect(checkMetadata({ generateName: "x/" }, "metadata")[0]?.path).toBe("metadata.generateName");
  });

  test("a manifest without a name or generateName is refused", () => {
    const r = validate(vmi({}));
    expect(r.ok ? [] : r.problems).toContainEqual({ path: "metadata.name", rule: expect.stringMatching(/is required/) as unknown as string });
  });

  test("the rule holds for a VM and a v1alpha1 VM too", () => {
    const vm = { apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", metadata: { name: "x/../y" }, spec: { template: { spec: { domain: { devices: {}, resources: { requests: { memory: "64M" } } } } } } };
    const r = validate(vm);
    expect(r.ok ? [] : r.problems.map((p) => p.path)).toContain("metadata.name");
    const alpha = { apiVersion: "kubevirt.io/v1alpha1", kind: "VirtualMachine", metadata: { name: "x/../y" }, spec: { domain: { devices: {}, resources: { requests: { memory: "64M" } } } } };
    const ra = validate(alpha);
    expect(ra.ok ? [] : ra.problems.map((p) => p.path)).toContain("metadata.name");
  });
});

describe("documents that are not manifests, in the user's terms", () => {
  test("no apiVersion, no kind, a list, a string: never \"undefined\"", () => {
    const cases: [unknown, string, RegExp][] = [
      [{ kind: "VirtualMachineInstance", metadata: { name: "x" } }, "apiVersion", /^is required; bunvirt serves kubevirt\.io\/v1 VirtualMachine/],
      [{ apiVersion: "kubevirt.io/v1" }, "kind", /^is required/],
      [{}, "apiVersion", /^is required/],
      [["a", "b"], "(document)", /not a list$/],
      ["just a string", "(document)", /not a string$/],
      [null, "(document)", /not empty$/],
      [{ apiVersion: 1, kind: "VirtualMachine" }, "apiVersion", /must be a string/],
    ];
    for (const [doc, path, rule] of cases) {
      const r = validate(doc);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.problems[0]!.path).toBe(path);
      expect(r.problems[0]!.rule).toMatch(rule);
      expect(r.problems[0]!.rule).not.toContain("undefined");
    }
  });
});
