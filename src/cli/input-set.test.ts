import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { stringify } from "yaml";
import { describeDocument, parseManifests } from "../api/manifest.ts";
import { checkDocuments, oneVm } from "./input-set.ts";
import type { FileDocument } from "./read-documents.ts";

const dir = new URL("../../tests/fixtures/user-guide-instancetypes/", import.meta.url).pathname;

const docsOf = (objects: unknown[]): FileDocument[] =>
  parseManifests(objects.map((o) => stringify(o)).join("---\n")).map((d) => ({ ...d, file: "in.yaml", label: `in.yaml: ${describeDocument(d)}` }));

const instancetype = (spec: unknown = { cpu: { guest: 2 }, memory: { guest: "1Gi" } }, kind = "VirtualMachineClusterInstancetype", meta: object = {}) => ({
  apiVersion: "instancetype.kubevirt.io/v1beta1", kind, metadata: { name: "u1.small", ...meta }, spec,
});
const preference = (spec: unknown, kind = "VirtualMachineClusterPreference") => ({ apiVersion: "instancetype.kubevirt.io/v1beta1", kind, metadata: { name: "linux" }, spec });
const vm = (spec: object, domain: object = {}) => ({
  apiVersion: "kubevirt.io/v1", kind: "VirtualMachine", metadata: { name: "vm" },
  spec: { runStrategy: "Halted", ...spec, template: { spec: { domain: { devices: {}, ...domain } } } },
});

/** Each document's problems as "path: rule" (empty when valid). */
const problems = (objects: unknown[]) => checkDocuments(docsOf(objects)).map(({ result }) => (result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.rule}`)));

describe("user guide instancetype manifests", () => {
  for (const f of readdirSync(dir).filter((x) => x.endsWith(".yaml"))) {
    test(`${f}: every document valid, the VM expanded`, async () => {
      const docs = parseManifests(await Bun.file(dir + f).text()).map((d) => ({ ...d, file: f, label: f }));
      const checked = checkDocuments(docs);
      expect(checked.map((c) => (c.result.ok ? [] : c.result.problems))).toEqual(checked.map(() => []));
      const found = await oneVm([dir + f], "test");
      expect("valid" in found && found.valid.key === "v1/VirtualMachine" && found.valid.expanded?.spec.domain.memory?.guest !== undefined).toBe(true);
    });
  }
});

describe("offline resolution and bad input", () => {
  test("a VM finds its cluster instancetype and preference in the input, whatever the order; kinds in any case or plural", () => {
    expect(problems([vm({ instancetype: { name: "u1.small" } }), instancetype()])).toEqual([[], []]);
    expect(problems([vm({ instancetype: { name: "u1.small", kind: "virtualmachineclusterinstancetypes" } }), instancetype()])).toEqual([[], []]);
  });

  test("a missing one is named, with where it was looked for", () => {
    expect(problems([vm({ instancetype: { name: "u1.small" }, preference: { name: "linux", kind: "VirtualMachinePreference" } })])).toEqual([[
      'spec.instancetype.name: VirtualMachineClusterInstancetype "u1.small" is not in the input; give it as another document of the file or in another file',
      'spec.preference.name: VirtualMachinePreference "linux" in namespace "default" is not in the input; give it as another document of the file or in another file',
    ]]);
  });

  test("a namespaced instancetype is found only in the VM's namespace", () => {
    const other = instancetype(undefined, "VirtualMachineInstancetype", { namespace: "other" });
    expect(problems([vm({ instancetype: { name: "u1.small", kind: "VirtualMachineInstancetype" } }), other])[0]).toEqual([
      'spec.instancetype.name: VirtualMachineInstancetype "u1.small" in namespace "default" is not in the input; give it as another document of the file or in another file',
    ]);
  });

  test("a VM that sets what its instancetype sets is refused at its field", () => {
    expect(problems([vm({ instancetype: { name: "u1.small" } }, { cpu: { cores: 2 } }), instancetype()])[0]).toEqual([
      'spec.template.spec.domain.cpu.cores: conflicts with instancetype "u1.small", which sets it; remove it from the VM',
    ]);
  });

  test("a VM without an instancetype still needs its memory; a preference alone does not give it", () => {
    expect(problems([vm({ preference: { name: "linux" } }), preference({})])[0]).toEqual([
      "spec.template.spec.domain.resources.requests.memory: memory must be given: set domain.memory.guest, resources.requests.memory or resources.limits.memory",
    ]);
  });

  test("bad kinds and fields of instancetypes, preferences and matchers name the field and rule", () => {
    expect(problems([vm({ instancetype: { name: "u1.small", kind: "Instancetype" } })])[0]).toEqual([
      "spec.instancetype.kind: must be VirtualMachineInstancetype or VirtualMachineClusterInstancetype (any case, or their plural)",
    ]);
    expect(problems([vm({ instancetype: { name: "" } })])[0]).toEqual(["spec.instancetype.name: must not be empty"]);
    expect(problems([instancetype({ cpu: { guest: 1 }, memory: { guest: "1Gi" }, gpus: [] })])[0]).toEqual([
      "spec.gpus: field is not supported by bunvirt (it is not part of the implemented kubevirt.io subset)",
    ]);
    expect(problems([instancetype({ memory: { guest: "1Gi" } })])[0]).toEqual(["spec.cpu: is required"]);
    expect(problems([instancetype({ cpu: { guest: 0 }, memory: { guest: "1Gi" } })])[0]).toEqual(["spec.cpu.guest: must be at least 1"]);
    expect(problems([instancetype({ cpu: { guest: 1 }, memory: { guest: "1k" } })])[0]).toEqual(['spec.memory.guest: "1k" is below the minimum; must be at least 1M']);
    expect(problems([instancetype({ cpu: { guest: 1 }, memory: { guest: "1Gi", overcommitPercent: 101 } })])[0]).toEqual(["spec.memory.overcommitPercent: must be at most 100"]);
    expect(problems([preference({ cpu: { preferredCPUTopology: "diagonal" } })])[0]![0]).toMatch(/^spec\.cpu\.preferredCPUTopology: must be one of "sockets", "cores", "threads", "spread", "any"/);
    expect(problems([preference({ clock: { preferredClockOffset: { timezone: "Mars/Olympus" } } })])[0]).toEqual([
      'spec.clock.preferredClockOffset.timezone: "Mars/Olympus" is not a known IANA time zone, such as Europe/Berlin',
    ]);
    expect(problems([preference({ preferredSubdomain: "x" })])[0]).toEqual(["spec.preferredSubdomain: field is not supported by bunvirt (it is not part of the implemented kubevirt.io subset)"]);
  });

  test("an invalid instancetype is not used: the VM says it is not in the input", () => {
    const out = problems([vm({ instancetype: { name: "u1.small" } }), instancetype({ cpu: { guest: 1 } })]);
    expect(out[0]![0]).toMatch(/^spec\.instancetype\.name: VirtualMachineClusterInstancetype "u1\.small" is not in the input/);
    expect(out[1]).toEqual(["spec.memory: is required"]);
  });
});
