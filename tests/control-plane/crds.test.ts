/**
 * The generated CRDs on a real kube-apiserver: accepted and Established,
 * KubeVirt's v1 examples apply unchanged (no webhooks exist yet), kubectl
 * shows KubeVirt's printer columns, `kubectl explain` answers with the
 * schemas' descriptions at every depth, and the API server itself (no
 * webhook registered) refuses manifests that break the generated constraints.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { parse, stringify } from "yaml";
import { virtualMachineCrd, virtualMachineInstanceCrd } from "../../src/api/crd/crds.ts";
import type { OpenApi } from "../../src/api/crd/openapi.ts";
import { validate } from "../../src/api/validate.ts";
import { kubeFetch } from "../../src/kube/api-client.ts";
import { repoRoot } from "../lib/bunvirt.ts";
import { controlPlaneTier, startControlPlane, type ControlPlane } from "../lib/control-plane.ts";

const skip = controlPlaneTier("control-plane crds");
const guide = join(repoRoot, "tests/fixtures/user-guide");
const examples = readdirSync(guide).filter((f) => f.endsWith(".yaml"));

describe.skipIf(skip !== null)("CRDs on kube-apiserver", () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await startControlPlane();
    console.error(`kube-apiserver ready after ${cp.apiserverReadySeconds.toFixed(1)} s`);
  }, 180_000);
  afterAll(async () => cp?.stop());

  test("every CRD is Established with names accepted: VMs, VMIs and the four instancetype.kubevirt.io kinds", async () => {
    const instancetypeCrds = ["virtualmachineinstancetypes", "virtualmachineclusterinstancetypes", "virtualmachinepreferences", "virtualmachineclusterpreferences"].map((p) => `${p}.instancetype.kubevirt.io`);
    for (const crd of ["virtualmachines.kubevirt.io", "virtualmachineinstances.kubevirt.io", ...instancetypeCrds]) {
      await cp.kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", `crd/${crd}`]);
      const got = JSON.parse(await cp.kubectlOk(["get", "crd", crd, "-o", "json"])) as {
        status: { conditions: { type: string; status: string }[]; acceptedNames: { shortNames?: string[] } };
      };
      const status = (type: string): string | undefined => got.status.conditions.find((c) => c.type === type)?.status;
      expect(status("NamesAccepted")).toBe("True");
      expect(status("Established")).toBe("True");
      expect(status("NonStructuralSchema")).toBeUndefined();
    }
  });

  test("KubeVirt's v1 user-guide examples apply and read back", async () => {
    expect(examples.length).toBeGreaterThanOrEqual(8);
    const out = await cp.kubectlOk(["apply", "-n", "default", ...examples.flatMap((f) => ["-f", join(guide, f)])]);
    expect(out.trim().split("\n")).toHaveLength(examples.length);
    expect(out).toMatch(/virtualmachine\.kubevirt\.io\/testvm created/);
    expect(out).toMatch(/virtualmachineinstance\.kubevirt\.io\/vmi-efi created/);
    // What the API server stored is what the manifest said (nothing pruned by the schema).
    const vm = JSON.parse(await cp.kubectlOk(["get", "vm", "testvm", "-n", "default", "-o", "json"])) as {
      spec: { runStrategy?: string; template: { spec: { domain: { devices: { disks: unknown[] } } } } };
    };
    expect(vm.spec.template.spec.domain.devices.disks.length).toBeGreaterThan(0);
  });

  test("kubectl get vm,vmi shows KubeVirt's printer columns", async () => {
    const out = await cp.kubectlOk(["get", "vm,vmi", "-n", "default"]);
    const headers = out.split("\n").filter((l) => l.startsWith("NAME"));
    expect(headers).toHaveLength(2);
    expect(headers[0]!.split(/\s+/)).toEqual(["NAME", "AGE", "STATUS", "READY"]);
    expect(headers[1]!.split(/\s+/)).toEqual(["NAME", "AGE", "PHASE", "IP", "NODENAME", "READY"]);
    expect(out).toMatch(/^virtualmachine\.kubevirt\.io\/testvm\s/m);
    expect(out).toMatch(/^virtualmachineinstance\.kubevirt\.io\/vmi-ephemeral\s/m);
  });

  test("bunvirt's raw client (kubeFetch) lists them with a client certificate and the CA file", async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(cp.adminKubeconfig);
    const resp = await kubeFetch(kc, "/apis/kubevirt.io/v1/namespaces/default/virtualmachines");
    expect(resp.status).toBe(200);
    const list = (await resp.json()) as { items: { metadata: { name: string } }[] };
    expect(list.items.map((vm) => vm.metadata.name).sort()).toEqual(["testvm", "vm-cirros", "vm-fedora-datavolume", "vm-secret", "vm-tpm", "win2k22"]);
  });

  test("kubectl explain vm.spec.template.spec.domain answers from the schema", async () => {
    const out = await cp.kubectlOk(["explain", "vm.spec.template.spec.domain"]);
    expect(out).toMatch(/^GROUP: +kubevirt\.io$/m);
    expect(out).toMatch(/^KIND: +VirtualMachine$/m);
    expect(out).toMatch(/^VERSION: +v1$/m);
    expect(out).toMatch(/^FIELD: domain <Object>$/m);
    expect(out).toMatch(/^ {2}devices\t<Object> -required-$/m);
    expect(out).toMatch(/^ {2}resources\t<Object>$/m);
  });

  test("kubectl explain answers with the schema's description at every depth, and lists enums", async () => {
    const paths: [string[], string, string][] = [
      // [kubectl arguments, CRD kind/version, path in the schema]
      [["vm.spec"], "VirtualMachine/v1", "spec"],
      [["vm.spec.runStrategy"], "VirtualMachine/v1", "spec.runStrategy"],
      [["vm.spec.template.spec.terminationGracePeriodSeconds"], "VirtualMachine/v1", "spec.template.spec.terminationGracePeriodSeconds"],
      [["vm.spec.template.spec.domain.cpu.cores"], "VirtualMachine/v1", "spec.template.spec.domain.cpu.cores"],
      [["vm.spec.template.spec.domain.devices.disks.cdrom.bus"], "VirtualMachine/v1", "spec.template.spec.domain.devices.disks.cdrom.bus"],
      [["vmi.spec.domain.devices.interfaces.ports.protocol"], "VirtualMachineInstance/v1", "spec.domain.devices.interfaces.ports.protocol"],
      [["vmi.spec.volumes.containerDisk.imagePullPolicy"], "VirtualMachineInstance/v1", "spec.volumes.containerDisk.imagePullPolicy"],
      [["vmi.spec.domain.resources.requests.memory"], "VirtualMachineInstance/v1", "spec.domain.resources.requests.memory"],
      [["vmi.status.phase"], "VirtualMachineInstance/v1", "status.phase"],
      [["vm.spec.volumes.registryDisk.image", "--api-version=kubevirt.io/v1alpha1"], "VirtualMachine/v1alpha1", "spec.volumes.registryDisk.image"],
    ];
    const words = (t: string): string => t.replace(/\s+/g, " ").trim();
    for (const [args, where, path] of paths) {
      const field = schemaAt(where, path);
      const out = await cp.kubectlOk(["explain", ...args]);
      const description = words(out.split(/^DESCRIPTION:$/m)[1] ?? "");
      expect(description.startsWith(words(field.description!)), `kubectl explain ${args.join(" ")}:\n${out}`).toBe(true);
      if (field.enum !== undefined) {
        expect(out, `kubectl explain ${args.join(" ")}`).toMatch(/^ENUM:$/m);
        for (const value of field.enum) expect(out).toMatch(new RegExp(`^ +${String(value)}$`, "m"));
      }
      expect(out).not.toContain("<no description>");
    }
    // What a user sees (kept in the test log, quoted in the README).
    console.error(await cp.kubectlOk(["explain", "vm.spec.runStrategy"]));
    console.error(await cp.kubectlOk(["explain", "vmi.spec.domain.cpu"]));
    // An object's field list shows each child's description too: none is missing anywhere along a deep path.
    for (const path of ["vm.spec.template.spec", "vm.spec.template.spec.domain.devices", "vmi.spec.domain.firmware.bootloader.efi", "vmi.status"]) {
      expect(await cp.kubectlOk(["explain", path]), path).not.toContain("<no description>");
    }
  });

  test("the API server itself refuses manifests that break a generated constraint, naming the field", async () => {
    // No webhook is registered: whatever refuses here is the CRD's schema.
    expect((await cp.kubectlOk(["get", "validatingwebhookconfigurations,mutatingwebhookconfigurations", "-o", "name"])).trim()).toBe("");
    const base = parse(await Bun.file(join(guide, "vm-cirros.yaml")).text()) as Record<string, any>;
    base.metadata.name = "dry-run-vm";
    const dryRun = (doc: object) => cp.kubectl(["apply", "--dry-run=server", "-n", "default", "-f", "-"], { stdin: stringify(doc) });
    const ok = await dryRun(base);
    expect(ok.code, ok.stderr).toBe(0);
    const tmpl = "spec.template.spec";
    const cases: [string, string, (vm: any) => void, RegExp][] = [
      ["enum", "spec.runStrategy", (vm) => { delete vm.spec.running; vm.spec.runStrategy = "Sometimes"; }, /Unsupported value: "Sometimes": supported values: "Always"/],
      ["minimum", `${tmpl}.domain.cpu.cores`, (vm) => { vm.spec.template.spec.domain.cpu = { cores: 0 }; }, /greater than or equal to 1/],
      ["maximum", `${tmpl}.domain.devices.interfaces[0].ports[0].port`, (vm) => { vm.spec.template.spec.domain.devices.interfaces = [{ name: "default", masquerade: {}, ports: [{ port: 70000 }] }]; }, /less than or equal to 65535/],
      ["integer", `${tmpl}.domain.devices.disks[0].bootOrder`, (vm) => { vm.spec.template.spec.domain.devices.disks[0].bootOrder = 1.5; }, /must be of type integer/],
      ["pattern", `${tmpl}.domain.devices.interfaces[0].name`, (vm) => { vm.spec.template.spec.domain.devices.interfaces = [{ name: "eth 0", masquerade: {} }]; }, /should match '\^\[A-Za-z0-9_-\]\+\$'/],
      ["quantity pattern", `${tmpl}.domain.resources.requests.memory`, (vm) => { vm.spec.template.spec.domain.resources.requests.memory = "lots"; }, /should match/],
      ["minLength", `${tmpl}.volumes[0].containerDisk.image`, (vm) => { vm.spec.template.spec.volumes[0].containerDisk.image = ""; }, /at least 1 chars long/],
      ["maxLength", `${tmpl}.domain.devices.disks[0].serial`, (vm) => { vm.spec.template.spec.domain.devices.disks[0].serial = "s".repeat(257); }, /Too long|at most 256 chars long/],
      ["maxItems", `${tmpl}.volumes`, (vm) => { vm.spec.template.spec.volumes = Array.from({ length: 257 }, (_, i) => ({ name: `v${i}`, emptyDisk: { capacity: "1Mi" } })); }, /must have at most 256 items/],
      ["required", `${tmpl}.domain.devices`, (vm) => { delete vm.spec.template.spec.domain.devices; }, /Required value/],
      ["enum (deep)", `${tmpl}.domain.devices.disks[0].disk.bus`, (vm) => { vm.spec.template.spec.domain.devices.disks[0].disk.bus = "ide"; }, /Unsupported value: "ide"/],
    ];
    for (const [rule, field, breakIt, message] of cases) {
      const vm = structuredClone(base);
      breakIt(vm);
      // bunvirt's own validation refuses it too: the CRD says what the schema checks, nothing more.
      expect(validate(vm).ok, `${rule}: bunvirt's validate`).toBe(false);
      const got = await dryRun(vm);
      expect(got.code, `${rule}: ${got.stdout}`).not.toBe(0);
      expect(got.stderr, rule).toContain(field);
      expect(got.stderr, rule).toMatch(message);
      expect(got.stderr, rule).not.toMatch(/webhook/i);
      console.error(got.stderr.trim()); // what a user sees, kept in the test log
    }
  });
});

/** The generated OpenAPI schema of a field ("Kind/version", dotted path without list indexes). */
function schemaAt(where: string, path: string): OpenApi {
  const [kind, version] = where.split("/");
  const crd = (kind === "VirtualMachine" ? virtualMachineCrd() : virtualMachineInstanceCrd()) as { spec: { versions: { name: string; schema: { openAPIV3Schema: OpenApi } }[] } };
  let s = crd.spec.versions.find((v) => v.name === version)!.schema.openAPIV3Schema;
  for (const key of path.split(".")) {
    const next = (s.items ?? s).properties?.[key];
    if (next === undefined) throw new Error(`Cannot find "${path}" in the ${where} schema: no "${key}"`);
    s = next;
  }
  return s;
}
