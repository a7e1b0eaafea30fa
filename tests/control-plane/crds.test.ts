/**
 * The generated CRDs on a real kube-apiserver: accepted and Established,
 * KubeVirt's v1 examples apply unchanged (no webhooks exist yet), kubectl
 * shows KubeVirt's printer columns and explains the schema.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
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

  test("both CRDs are Established with names accepted", async () => {
    for (const crd of ["virtualmachines.kubevirt.io", "virtualmachineinstances.kubevirt.io"]) {
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
    expect(list.items.map((vm) => vm.metadata.name).sort()).toEqual(["testvm", "vm-cirros", "vm-secret"]);
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
});
